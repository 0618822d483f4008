package service

import (
	"strings"
	"testing"
)

// TestRedact: passwords and tokens of NATS URLs never reach a log.
func TestRedact(t *testing.T) {
	in := "nats://ledgerd:s3cret@nats-1:4222, nats://tok3n@nats-2:4222,nats://nats-3:4222"
	out := redact(in)
	if strings.Contains(out, "s3cret") || strings.Contains(out, "tok3n") {
		t.Errorf("redact(%q) = %q", in, out)
	}
	if !strings.Contains(out, "ledgerd:REDACTED@nats-1:4222") || !strings.Contains(out, "nats://nats-3:4222") {
		t.Errorf("redact(%q) = %q: want the hosts and user kept", in, out)
	}
}
