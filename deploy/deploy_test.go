// Package deploy_test checks that the production configurations in this
// directory are accepted by the nats-server version ledgerd embeds.
package deploy_test

import (
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

func TestNATSClusterConfigs(t *testing.T) {
	t.Setenv("LEDGERD_NATS_PASSWORD", "test-secret-1")
	t.Setenv("QINGPU_ZWB_NATS_PASSWORD", "test-secret-2")
	files, err := filepath.Glob("nats/*.conf")
	if err != nil || len(files) != 3 {
		t.Fatalf("want 3 cluster node configs, got %v %v", files, err)
	}
	for _, f := range files {
		o, err := server.ProcessConfigFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !o.JetStream || o.Cluster.Name != "budgetledger" || len(o.Routes) != 3 {
			t.Errorf("%s: jetstream %v cluster %q routes %d", f, o.JetStream, o.Cluster.Name, len(o.Routes))
		}
		for _, u := range o.Users {
			if u.Password == "" || u.Password[0] == '$' {
				t.Errorf("%s: user %s password not taken from the environment", f, u.Username)
			}
		}
	}
}
