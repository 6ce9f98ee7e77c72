package postgres

// Parsers for PostgreSQL's text output formats. Both the snapshot (simple
// protocol, text results) and the pgoutput stream deliver values as text,
// produced under the session settings in sessionParams, so one set of
// parsers serves both paths.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/tributary-cdc/tributary/schema"
)

// sessionParams fixes the output formats of every connection the connector
// opens (snapshot, catalog and the walsender): ISO dates, UTC, ISO-8601
// intervals, hex bytea and C-locale money.
var sessionParams = map[string]string{
	"DateStyle":          "ISO, YMD",
	"TimeZone":           "UTC",
	"IntervalStyle":      "iso_8601",
	"bytea_output":       "hex",
	"lc_monetary":        "C",
	"extra_float_digits": "1",
	"application_name":   "tributary",
}

var errSyntax = errors.New("invalid syntax")

// Microsecond constants.
const (
	usPerSec   = int64(1_000_000)
	usPerMin   = 60 * usPerSec
	usPerHour  = 60 * usPerMin
	usPerDay   = 24 * usPerHour
	usPerMonth = 2_629_800 * usPerSec // 365.25/12 days, Debezium's average month
)

// Debezium's encodings of PostgreSQL's ±infinity timestamps (the JDBC
// driver's DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY taken as µs).
const (
	posInfinityMicros = int64(9223372036825200000)
	negInfinityMicros = int64(-9223372036832400000)
)

func floorMod(a, b int64) int64 { return a - schema.FloorDiv(a, b)*b }

// atoi parses a run of ASCII digits.
func atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseDate parses "YYYY-MM-DD[ BC]" into days since the epoch.
func parseDate(b []byte) (int64, error) {
	bc := false
	if n := len(b); n > 3 && string(b[n-3:]) == " BC" {
		bc = true
		b = b[:n-3]
	}
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i < 4 || len(b) != i+6 || b[i] != '-' || b[i+3] != '-' {
		return 0, fmt.Errorf("date %q: %w", b, errSyntax)
	}
	y, ok1 := atoi(b[:i])
	mo, ok2 := atoi(b[i+1 : i+3])
	d, ok3 := atoi(b[i+4 : i+6])
	if !ok1 || !ok2 || !ok3 {
		return 0, fmt.Errorf("date %q: %w", b, errSyntax)
	}
	if bc {
		y = 1 - y
	}
	return schema.DaysFromCivil(y, mo, d), nil
}

// parseClock parses "HH:MM:SS[.ffffff]" into µs since midnight and returns
// the rest of the input (a zone offset, if any).
func parseClock(b []byte) (int64, []byte, error) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return 0, nil, fmt.Errorf("time %q: %w", b, errSyntax)
	}
	h, ok1 := atoi(b[0:2])
	mi, ok2 := atoi(b[3:5])
	s, ok3 := atoi(b[6:8])
	if !ok1 || !ok2 || !ok3 {
		return 0, nil, fmt.Errorf("time %q: %w", b, errSyntax)
	}
	us := h*usPerHour + mi*usPerMin + s*usPerSec
	rest := b[8:]
	if len(rest) > 0 && rest[0] == '.' {
		j := 1
		frac := int64(0)
		digits := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			if digits < 6 {
				frac = frac*10 + int64(rest[j]-'0')
				digits++
			}
			j++
		}
		for ; digits < 6; digits++ {
			frac *= 10
		}
		us += frac
		rest = rest[j:]
	}
	return us, rest, nil
}

// parseOffset parses "+HH[:MM[:SS]]" into seconds east of UTC.
func parseOffset(b []byte) (int64, error) {
	if len(b) < 3 || (b[0] != '+' && b[0] != '-') {
		return 0, fmt.Errorf("zone offset %q: %w", b, errSyntax)
	}
	sign := int64(1)
	if b[0] == '-' {
		sign = -1
	}
	mult := [3]int64{3600, 60, 1}
	var secs int64
	rest := b[1:]
	for i := 0; len(rest) > 0; i++ {
		j := 0
		for j < len(rest) && rest[j] != ':' {
			j++
		}
		n, ok := atoi(rest[:j])
		if !ok || i > 2 {
			return 0, fmt.Errorf("zone offset %q: %w", b, errSyntax)
		}
		secs += n * mult[i]
		if j == len(rest) {
			break
		}
		rest = rest[j+1:]
	}
	return sign * secs, nil
}

// tsKind tells special timestamp values apart.
type tsKind uint8

const (
	tsFinite tsKind = iota
	tsPosInf
	tsNegInf
)

// parseTimestamp parses "YYYY-MM-DD HH:MM:SS[.f][+HH[:MM]][ BC]" and
// returns µs since the epoch in UTC (for values without a zone, the
// wall-clock time taken as UTC).
func parseTimestamp(b []byte) (int64, tsKind, error) {
	switch string(b) {
	case "infinity":
		return 0, tsPosInf, nil
	case "-infinity":
		return 0, tsNegInf, nil
	}
	bc := false
	if n := len(b); n > 3 && string(b[n-3:]) == " BC" {
		bc = true
		b = b[:n-3]
	}
	sp := -1
	for i, c := range b {
		if c == ' ' || c == 'T' {
			sp = i
			break
		}
	}
	if sp < 0 {
		return 0, 0, fmt.Errorf("timestamp %q: %w", b, errSyntax)
	}
	datePart := b[:sp]
	if bc {
		datePart = append(append([]byte{}, datePart...), " BC"...)
	}
	days, err := parseDate(datePart)
	if err != nil {
		return 0, 0, err
	}
	us, rest, err := parseClock(b[sp+1:])
	if err != nil {
		return 0, 0, err
	}
	var off int64
	if len(rest) > 0 {
		if off, err = parseOffset(rest); err != nil {
			return 0, 0, err
		}
	}
	return days*usPerDay + us - off*usPerSec, tsFinite, nil
}

// appendYear writes a year as java.time's ISO formatter does: 4 digits, a
// sign beyond 9999 and before year 0.
func appendYear(dst []byte, y int64) []byte {
	switch {
	case y > 9999:
		dst = append(dst, '+')
		return strconv.AppendInt(dst, y, 10)
	case y < 0:
		dst = append(dst, '-')
		y = -y
	}
	s := strconv.FormatInt(y, 10)
	for i := len(s); i < 4; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

func append2(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

// appendFraction writes ".fffffffff" for nanos: exactly width digits when
// width is 1..9, otherwise the fewest digits (none when nanos is 0), as
// java.time's appendFraction does.
func appendFraction(dst []byte, nanos int64, width int) []byte {
	var d [9]byte
	for i := 8; i >= 0; i-- {
		d[i] = byte('0' + nanos%10)
		nanos /= 10
	}
	if width >= 1 && width <= 9 {
		return append(append(dst, '.'), d[:width]...)
	}
	n := 9
	for n > 0 && d[n-1] == '0' {
		n--
	}
	if n == 0 {
		return dst
	}
	return append(append(dst, '.'), d[:n]...)
}

// formatZonedTimestamp renders µs since the epoch as Debezium's
// ZonedTimestamp: ISO-8601 in UTC with a 'Z' offset.
func formatZonedTimestamp(us int64, width int) string {
	days := schema.FloorDiv(us, usPerDay)
	tod := floorMod(us, usPerDay)
	y, m, d := schema.CivilFromDays(days)
	dst := make([]byte, 0, 32)
	dst = appendYear(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, int(m))
	dst = append(dst, '-')
	dst = append2(dst, int(d))
	dst = append(dst, 'T')
	dst = appendClock(dst, tod, width)
	return string(append(dst, 'Z'))
}

func appendClock(dst []byte, tod int64, width int) []byte {
	h := int(tod / usPerHour)
	mi := int(tod % usPerHour / usPerMin)
	s := int(tod % usPerMin / usPerSec)
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	return appendFraction(dst, tod%usPerSec*1000, width)
}

// parseTimeTZ parses "HH:MM:SS[.f]+HH[:MM]" and renders Debezium's
// ZonedTime: the same instant in UTC, "HH:MM:SS[.f]Z".
func parseTimeTZ(b []byte) (string, error) {
	us, rest, err := parseClock(b)
	if err != nil {
		return "", err
	}
	off, err := parseOffset(rest)
	if err != nil {
		return "", err
	}
	utc := floorMod(us-off*usPerSec, usPerDay)
	return string(append(appendClock(make([]byte, 0, 24), utc, 0), 'Z')), nil
}

// interval holds the fields of an ISO-8601 interval as PostgreSQL prints
// them with IntervalStyle=iso_8601 (each field may be negative).
type interval struct {
	years, months, days, hours, minutes int64
	seconds                             string // decimal text, e.g. "6.78", "-0.5"
	secMicros                           int64
}

// parseInterval parses "P1Y2M3DT4H5M6.78S" (PostgreSQL's iso_8601 style).
func parseInterval(b []byte) (interval, error) {
	var iv interval
	s := string(b)
	if len(s) < 2 || s[0] != 'P' {
		return iv, fmt.Errorf("interval %q: %w", s, errSyntax)
	}
	s = s[1:]
	timePart := false
	for len(s) > 0 {
		if s[0] == 'T' {
			timePart = true
			s = s[1:]
			continue
		}
		j := 0
		for j < len(s) && (s[j] == '-' || s[j] == '+' || s[j] == '.' || (s[j] >= '0' && s[j] <= '9')) {
			j++
		}
		if j == 0 || j == len(s) {
			return iv, fmt.Errorf("interval %q: %w", b, errSyntax)
		}
		num, unit := s[:j], s[j]
		s = s[j+1:]
		if unit == 'S' && timePart {
			us, err := parseSecondsMicros(num)
			if err != nil {
				return iv, fmt.Errorf("interval %q: %w", b, err)
			}
			iv.seconds, iv.secMicros = num, us
			continue
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return iv, fmt.Errorf("interval %q: %w", b, errSyntax)
		}
		switch {
		case unit == 'Y' && !timePart:
			iv.years = n
		case unit == 'M' && !timePart:
			iv.months = n
		case unit == 'W' && !timePart:
			iv.days += 7 * n
		case unit == 'D' && !timePart:
			iv.days += n
		case unit == 'H' && timePart:
			iv.hours = n
		case unit == 'M' && timePart:
			iv.minutes = n
		default:
			return iv, fmt.Errorf("interval %q: %w", b, errSyntax)
		}
	}
	return iv, nil
}

func parseSecondsMicros(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	whole, frac, _ := strings.Cut(s, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, errSyntax
	}
	for len(frac) < 6 {
		frac += "0"
	}
	f, err := strconv.ParseInt(frac[:6], 10, 64)
	if err != nil {
		return 0, errSyntax
	}
	us := w*usPerSec + f
	if neg {
		us = -us
	}
	return us, nil
}

// micros approximates the interval in µs as Debezium's MicroDuration does
// (a month is 365.25/12 days).
func (iv interval) micros() int64 {
	return (iv.years*12+iv.months)*usPerMonth + iv.days*usPerDay + iv.hours*usPerHour + iv.minutes*usPerMin + iv.secMicros
}

// iso renders the interval as Debezium's io.debezium.time.Interval:
// "P<y>Y<m>M<d>DT<h>H<m>M<s>S" with every field present and the seconds
// without trailing zeros.
func (iv interval) iso() string {
	sec := iv.seconds
	if sec == "" {
		sec = "0"
	}
	neg := strings.HasPrefix(sec, "-")
	sec = strings.TrimLeft(sec, "+-")
	if strings.Contains(sec, ".") {
		whole, frac, _ := strings.Cut(sec, ".")
		if len(frac) > 6 {
			frac = frac[:6]
		}
		frac = strings.TrimRight(frac, "0")
		sec = whole
		if frac != "" {
			sec += "." + frac
		}
	}
	sec = strings.TrimLeft(sec, "0")
	if sec == "" || sec[0] == '.' {
		sec = "0" + sec
	}
	if neg && sec != "0" {
		sec = "-" + sec
	}
	return fmt.Sprintf("P%dY%dM%dDT%dH%dM%sS", iv.years, iv.months, iv.days, iv.hours, iv.minutes, sec)
}

// parseMoney parses MONEY output under lc_monetary=C ("$1,234.56",
// "-$1,234.56") into a decimal string.
func parseMoney(b []byte) (string, error) {
	neg := false
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c == '.':
			out = append(out, c)
		case c == '-' || c == '(':
			neg = true
		}
	}
	if len(out) == 0 {
		return "", fmt.Errorf("money %q: %w", b, errSyntax)
	}
	if neg {
		return "-" + string(out), nil
	}
	return string(out), nil
}

// parseBytea decodes bytea hex output ("\x0a0b").
func parseBytea(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != '\\' || b[1] != 'x' {
		return nil, fmt.Errorf("bytea %q…: expected hex output (bytea_output=hex): %w", truncate(b, 16), errSyntax)
	}
	out := make([]byte, (len(b)-2)/2)
	if _, err := hex.Decode(out, b[2:]); err != nil {
		return nil, fmt.Errorf("bytea: %w", err)
	}
	return out, nil
}

func decodeHexString(s string) ([]byte, error) { return hex.DecodeString(s) }

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// parseBits turns BIT/VARBIT text ("1010") into Debezium's Bits bytes:
// the number as little-endian bytes, as few as hold its highest set bit.
func parseBits(b []byte) ([]byte, error) {
	n := new(big.Int)
	for _, c := range b {
		switch c {
		case '0', '1':
			n.Lsh(n, 1)
			if c == '1' {
				n.SetBit(n, 0, 1)
			}
		default:
			return nil, fmt.Errorf("bit string %q: %w", b, errSyntax)
		}
	}
	be := n.Bytes()
	le := make([]byte, len(be))
	for i, c := range be {
		le[len(be)-1-i] = c
	}
	return le, nil
}

// parseArray splits a one-dimensional array literal ("{1,NULL,\"a b\"}")
// into its elements; nil elements are NULLs.
func parseArray(b []byte) ([][]byte, error) {
	if len(b) > 0 && b[0] == '[' { // explicit bounds: "[0:2]={...}"
		eq := strings.IndexByte(string(b), '=')
		if eq < 0 {
			return nil, fmt.Errorf("array %q: %w", truncate(b, 32), errSyntax)
		}
		b = b[eq+1:]
	}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("array %q: %w", truncate(b, 32), errSyntax)
	}
	body := b[1 : len(b)-1]
	if len(body) == 0 {
		return [][]byte{}, nil
	}
	var out [][]byte
	i := 0
	for {
		if i < len(body) && body[i] == '{' {
			return nil, fmt.Errorf("multi-dimensional arrays are not supported")
		}
		if i < len(body) && body[i] == '"' {
			var el []byte
			i++
			for i < len(body) && body[i] != '"' {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				el = append(el, body[i])
				i++
			}
			if i >= len(body) {
				return nil, fmt.Errorf("array: unterminated quoted element: %w", errSyntax)
			}
			i++ // closing quote
			if el == nil {
				el = []byte{}
			}
			out = append(out, el)
		} else {
			j := i
			for j < len(body) && body[j] != ',' {
				j++
			}
			el := body[i:j]
			if strings.EqualFold(string(el), "NULL") {
				out = append(out, nil)
			} else {
				out = append(out, el)
			}
			i = j
		}
		if i >= len(body) {
			break
		}
		if body[i] != ',' {
			return nil, fmt.Errorf("array: expected ',' at %d: %w", i, errSyntax)
		}
		i++
	}
	return out, nil
}

// hstoreEntry is one key/value pair; a nil value is NULL.
type hstoreEntry struct {
	key   string
	value *string
}

// parseHstore parses hstore output: "\"k\"=>\"v\", \"k2\"=>NULL".
func parseHstore(b []byte) ([]hstoreEntry, error) {
	var out []hstoreEntry
	i := 0
	skipSpace := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == ',') {
			i++
		}
	}
	quoted := func() (string, error) {
		if i >= len(b) || b[i] != '"' {
			return "", fmt.Errorf("hstore: expected '\"' at %d: %w", i, errSyntax)
		}
		i++
		var sb strings.Builder
		for i < len(b) && b[i] != '"' {
			if b[i] == '\\' && i+1 < len(b) {
				i++
			}
			sb.WriteByte(b[i])
			i++
		}
		if i >= len(b) {
			return "", fmt.Errorf("hstore: unterminated string: %w", errSyntax)
		}
		i++
		return sb.String(), nil
	}
	for {
		skipSpace()
		if i >= len(b) {
			return out, nil
		}
		k, err := quoted()
		if err != nil {
			return nil, err
		}
		if i+2 > len(b) || b[i] != '=' || b[i+1] != '>' {
			return nil, fmt.Errorf("hstore: expected '=>' at %d: %w", i, errSyntax)
		}
		i += 2
		if i+4 <= len(b) && strings.EqualFold(string(b[i:i+4]), "NULL") {
			i += 4
			out = append(out, hstoreEntry{key: k})
			continue
		}
		v, err := quoted()
		if err != nil {
			return nil, err
		}
		out = append(out, hstoreEntry{key: k, value: &v})
	}
}
