package events

import (
	"fmt"
	"time"
)

// Date is a calendar date (an accounting date, with no time of day), encoded
// as the integer yyyymmdd so that dates compare and sort as integers.
type Date int32

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("parse date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	return Date(t.Year()*10000 + int(t.Month())*100 + t.Day())
}

// NewDate returns the date y-m-d. It does not check that the day exists.
func NewDate(y int, m time.Month, d int) Date { return Date(y*10000 + int(m)*100 + d) }

// Year returns the year of d.
func (d Date) Year() int { return int(d) / 10000 }

// Valid reports whether d is a real calendar date.
func (d Date) Valid() bool {
	y, m, day := int(d)/10000, time.Month(int(d)/100%100), int(d)%100
	if d <= 0 || m < 1 || m > 12 || day < 1 {
		return false
	}
	t := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	return t.Day() == day && t.Month() == m
}

// String prints YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", int(d)/10000, int(d)/100%100, int(d)%100)
}

// YearEnd returns 31 December of year y.
func YearEnd(y int) Date { return NewDate(y, time.December, 31) }
