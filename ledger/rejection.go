package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger/events"
)

// MaxRawKept bounds the payload kept with a rejection: its first bytes,
// enough to see any real event whole (they are well under 1 KiB) and to
// diagnose any other; the payload's length and SHA-256 identify the rest.
const MaxRawKept = 2 << 10

// Rejection is a refused event as kept in the log.
type Rejection struct {
	Number     uint64      `json:"number"`
	Ledger     string      `json:"ledger"`
	ID         string      `json:"id,omitempty"`
	Code       events.Code `json:"code"`
	Reason     string      `json:"reason"`
	RecordedAt time.Time   `json:"recorded_at"`
	Via        string      `json:"via,omitempty"`
	// Raw is the start of the payload as received: all of it when RawLen
	// is at most MaxRawKept.
	Raw []byte `json:"raw,omitempty"`
	// RawLen is the payload's length in bytes and RawSHA256 its SHA-256
	// in hex: they tell which payload it was when Raw holds only its start.
	RawLen    int    `json:"raw_len,omitempty"`
	RawSHA256 string `json:"raw_sha256,omitempty"`
}

// rejectionVersion opens a rejection stored by format 2: the version, the
// rejection's hash, then its JSON. Format 1 stored the JSON alone (its first
// byte is '{').
const rejectionVersion = 2

// rejectionHash chains rejection n to the one before it, as records are
// chained: SHA-256(previous hash || n || JSON).
func rejectionHash(prev [32]byte, n uint64, js []byte) [32]byte {
	h := sha256.New()
	h.Write(prev[:])
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], n)
	h.Write(k[:])
	h.Write(js)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// decodeRejection reads a stored rejection and the hash stored with it (zero
// for format 1, which had none).
func decodeRejection(n uint64, v []byte) (Rejection, [32]byte, error) {
	var rj Rejection
	var hash [32]byte
	js := v
	if len(v) > 0 && v[0] == rejectionVersion {
		if len(v) < 1+32 {
			return rj, hash, fmt.Errorf("rejection %d: %w: %d bytes", n, ErrChainBroken, len(v))
		}
		copy(hash[:], v[1:33])
		js = v[33:]
	}
	if err := json.Unmarshal(js, &rj); err != nil {
		return rj, hash, fmt.Errorf("rejection %d: %w: %v", n, ErrChainBroken, err)
	}
	return rj, hash, nil
}

// reject records that submission s was refused for cause, unless the day's
// quota of stored rejections is spent: then it is only counted. Either way
// the outcome says Rejected with the code and reason.
func (w *writeTx) reject(ledgerName string, s *Submission, cause error) (Outcome, error) {
	id := s.ID
	if id == "" {
		id = s.Event.ID
	}
	code := events.CodeOf(cause)
	if code == "" {
		code = "internal"
	}
	out := Outcome{Ledger: ledgerName, ID: id, Status: Rejected, Code: code, Reason: cause.Error(), Via: s.Via, InboxSeq: s.InboxSeq}
	keep, err := w.quota(ledgerName)
	if err != nil {
		return Outcome{}, err
	}
	if !keep {
		out.RecordedAt = time.Unix(0, w.now).UTC()
		out.Reason += fmt.Sprintf(" (not kept: the day's quota of stored rejections is spent, %d for one ledger and %d for all; the rejection is counted)",
			max(w.l.opts.RejectionsPerDay, 0), max(w.l.opts.RejectionsPerDayAll, 0))
		return out, nil
	}
	b, h, err := w.ledger(ledgerName)
	if err != nil {
		return Outcome{}, err
	}
	h.rejects++
	if w.now > h.recordedAt {
		h.recordedAt = w.now // recorded times never decrease, rejections included
	}
	rawLen, sum := len(s.Raw), s.RawSHA256
	if s.RawLen != 0 {
		rawLen = s.RawLen
	} else {
		sum = sha256.Sum256(s.Raw)
	}
	raw := s.Raw
	if len(raw) > MaxRawKept {
		raw = raw[:MaxRawKept]
	}
	rj := Rejection{
		Number: h.rejects, Ledger: ledgerName, ID: id, Code: code, Reason: out.Reason,
		RecordedAt: time.Unix(0, h.recordedAt).UTC(), Via: s.Via, Raw: raw,
	}
	if rawLen > 0 {
		rj.RawLen, rj.RawSHA256 = rawLen, hex.EncodeToString(sum[:])
	}
	js, err := json.Marshal(rj)
	if err != nil {
		return Outcome{}, fmt.Errorf("reject %s: %w", id, err)
	}
	h.rejHash = rejectionHash(h.rejHash, rj.Number, js)
	v := make([]byte, 0, 1+32+len(js))
	v = append(append(append(v, rejectionVersion), h.rejHash[:]...), js...)
	if err := b.rejects.Put(seqKey(rj.Number), v); err != nil {
		return Outcome{}, fmt.Errorf("reject %s: %w", id, err)
	}
	if id != "" && events.ValidateID(id) == nil {
		if err := b.rejids.Put([]byte(id), seqKey(rj.Number)); err != nil {
			return Outcome{}, fmt.Errorf("reject %s: %w", id, err)
		}
	}
	w.heads[ledgerName] = h
	out.Seq, out.RecordedAt = rj.Number, rj.RecordedAt
	return out, nil
}

// quota counts one rejection for ledgerName today and tells whether it may
// be stored. The counts live in the root bucket quota (doc.go): per day,
// one for all ledgers and one per ledger that had rejections that day. Past
// the quota for all, a rejection touches no ledger, so that a flood under
// ever new ledger names creates none of them.
func (w *writeTx) quota(ledgerName string) (bool, error) {
	q, err := w.tx.CreateBucketIfNotExists(bucketQuota)
	if err != nil {
		return false, fmt.Errorf("rejection quota: %w", err)
	}
	day := quotaDay(w.now)
	all := binary.BigEndian.AppendUint32(nil, day)
	one := append(append([]byte(nil), all...), ledgerName...)
	allStored, allCounted := quotaCounts(q.Get(all))
	oneStored, oneCounted := quotaCounts(q.Get(one))
	keep := int64(allStored) < int64(w.l.opts.RejectionsPerDayAll) && int64(oneStored) < int64(w.l.opts.RejectionsPerDay)
	put := func(k []byte, stored, counted uint64) error {
		v := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, stored), counted)
		return q.Put(k, v)
	}
	switch {
	case keep:
		err = put(all, allStored+1, allCounted+1)
		if err == nil {
			err = put(one, oneStored+1, oneCounted+1)
		}
	case int64(allStored) >= int64(w.l.opts.RejectionsPerDayAll):
		err = put(all, allStored, allCounted+1)
	default:
		err = put(all, allStored, allCounted+1)
		if err == nil {
			err = put(one, oneStored, oneCounted+1)
		}
	}
	if err != nil {
		return false, fmt.Errorf("rejection quota: %w", err)
	}
	return keep, nil
}

// quotaDay is the UTC day of a time in Unix nanoseconds, as YYYYMMDD.
func quotaDay(ns int64) uint32 {
	y, m, d := time.Unix(0, ns).UTC().Date()
	return uint32(y*10000 + int(m)*100 + d)
}

func quotaCounts(v []byte) (stored, counted uint64) {
	if len(v) != 16 {
		return 0, 0
	}
	return binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
}

// RejectionCount is one day's count of rejections for a ledger (or, with
// Ledger empty, for all of them): how many there were and how many of them
// were stored.
type RejectionCount struct {
	Day     string `json:"day"`
	Ledger  string `json:"ledger,omitempty"`
	Counted uint64 `json:"counted"`
	Stored  uint64 `json:"stored"`
}

// RejectionCounts lists the daily rejection counts of a ledger ("" for the
// counts of all ledgers together), oldest first.
func (l *Log) RejectionCounts(ledgerName string) ([]RejectionCount, error) {
	var out []RejectionCount
	err := l.read("rejection counts", func(tx *bolt.Tx) error {
		q := tx.Bucket(bucketQuota)
		if q == nil {
			return nil
		}
		return q.ForEach(func(k, v []byte) error {
			if len(k) < 4 || string(k[4:]) != ledgerName {
				return nil
			}
			stored, counted := quotaCounts(v)
			d := strconv.FormatUint(uint64(binary.BigEndian.Uint32(k)), 10)
			if len(d) == 8 {
				d = d[:4] + "-" + d[4:6] + "-" + d[6:]
			}
			out = append(out, RejectionCount{Day: d, Ledger: ledgerName, Counted: counted, Stored: stored})
			return nil
		})
	})
	return out, err
}
