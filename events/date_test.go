package events_test

import (
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
)

func TestParseDate(t *testing.T) {
	for in, want := range map[string]events.Date{
		"2020-01-02": 20200102,
		"2020-02-29": 20200229, // leap year
		"2020-12-31": 20201231,
		"2000-01-01": 20000101,
	} {
		got, err := events.ParseDate(in)
		if err != nil || got != want {
			t.Errorf("ParseDate(%q) = %d, %v; want %d", in, got, err, want)
		}
		if got.String() != in || !got.Valid() || got.Year() != int(want)/10000 {
			t.Errorf("%d: String %q, Valid %v, Year %d", got, got.String(), got.Valid(), got.Year())
		}
	}
	for _, in := range []string{"", "2019-02-29", "2020-02-30", "2020-13-01", "2020-00-10", "2020-01-00",
		"2020/01/02", "2020-1-2", "20200102", "2020-01-02 ", "2020-01-02T00:00:00Z", "二〇二〇-01-02"} {
		if d, err := events.ParseDate(in); err == nil {
			t.Errorf("ParseDate(%q) = %d, want an error", in, d)
		}
	}
}

func TestDateValid(t *testing.T) {
	for d, want := range map[events.Date]bool{
		20200229: true, 20190229: false, 20200230: false, 20201301: false,
		20200100: false, 20200001: false, 0: false, -20200101: false, 20201231: true,
	} {
		if got := d.Valid(); got != want {
			t.Errorf("Date(%d).Valid() = %v, want %v", d, got, want)
		}
	}
	if got := events.YearEnd(2020); got != 20201231 {
		t.Errorf("YearEnd(2020) = %d", got)
	}
	if got := events.NewDate(2020, time.March, 5); got != 20200305 || got.String() != "2020-03-05" {
		t.Errorf("NewDate = %d %s", got, got)
	}
	loc := time.FixedZone("CST", 8*3600)
	if got := events.DateOf(time.Date(2020, 12, 31, 23, 30, 0, 0, loc)); got != 20201231 {
		t.Errorf("DateOf = %d, want the date in the time's own zone", got)
	}
}
