package transforms

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// javaDateFormat is the subset of java.text.SimpleDateFormat that the
// timestamp transforms need, always in UTC (Connect sets the format's time
// zone to UTC). Supported letters: G y Y M L d D E u a H k K h m s S z Z X,
// quoted literals ('…', ” for a quote). Parsing is lenient like Java's
// default: out-of-range fields roll over, and text after the pattern is
// ignored.
type javaDateFormat struct {
	pattern string
	tokens  []dfToken
	// century start for two-digit years: 80 years before creation.
	defaultCenturyStart int
}

type dfToken struct {
	letter byte // 0 for a literal
	count  int
	lit    string
}

const dfLetters = "GyYMLdDEuaHkKhmsSzZX"

func compileJavaDateFormat(p string) (*javaDateFormat, error) {
	f := &javaDateFormat{pattern: p, defaultCenturyStart: time.Now().UTC().Year() - 80}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.tokens = append(f.tokens, dfToken{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			j := i + 1
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("Unterminated quote in pattern %q", p)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(p[j])
				j++
			}
			i = j + 1
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			if !strings.ContainsRune(dfLetters, rune(c)) {
				return nil, fmt.Errorf("Illegal pattern character '%c' in %q", c, p)
			}
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			flush()
			f.tokens = append(f.tokens, dfToken{letter: c, count: j - i})
			i = j
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return f, nil
}

func pad(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func (f *javaDateFormat) format(t time.Time) string {
	t = t.UTC()
	b := make([]byte, 0, len(f.pattern)+8)
	for _, tk := range f.tokens {
		switch tk.letter {
		case 0:
			b = append(b, tk.lit...)
		case 'G':
			if t.Year() > 0 {
				b = append(b, "AD"...)
			} else {
				b = append(b, "BC"...)
			}
		case 'y', 'Y':
			if tk.count == 2 {
				b = pad(b, t.Year()%100, 2)
			} else {
				b = pad(b, t.Year(), tk.count)
			}
		case 'M', 'L':
			switch {
			case tk.count >= 4:
				b = append(b, t.Month().String()...)
			case tk.count == 3:
				b = append(b, t.Month().String()[:3]...)
			default:
				b = pad(b, int(t.Month()), tk.count)
			}
		case 'd':
			b = pad(b, t.Day(), tk.count)
		case 'D':
			b = pad(b, t.YearDay(), tk.count)
		case 'E':
			if tk.count >= 4 {
				b = append(b, t.Weekday().String()...)
			} else {
				b = append(b, t.Weekday().String()[:3]...)
			}
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b = pad(b, wd, tk.count)
		case 'a':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'H':
			b = pad(b, t.Hour(), tk.count)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b = pad(b, h, tk.count)
		case 'K':
			b = pad(b, t.Hour()%12, tk.count)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b = pad(b, h, tk.count)
		case 'm':
			b = pad(b, t.Minute(), tk.count)
		case 's':
			b = pad(b, t.Second(), tk.count)
		case 'S':
			b = pad(b, t.Nanosecond()/1e6, tk.count)
		case 'z':
			if tk.count >= 4 {
				b = append(b, "Coordinated Universal Time"...)
			} else {
				b = append(b, "UTC"...)
			}
		case 'Z':
			b = append(b, "+0000"...)
		case 'X':
			b = append(b, 'Z')
		}
	}
	return string(b)
}

func isNumericToken(tk dfToken) bool {
	switch tk.letter {
	case 'y', 'Y', 'd', 'D', 'u', 'H', 'k', 'K', 'h', 'm', 's', 'S':
		return true
	case 'M', 'L':
		return tk.count <= 2
	}
	return false
}

var monthNames = [...]string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
var dayNames = [...]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

func (f *javaDateFormat) parse(s string) (time.Time, error) {
	year, month, day, yday := 1970, 1, 1, 0
	hour, minute, sec, ms := 0, 0, 0, 0
	pm, hasAmPm, h12 := false, false, false
	offset := 0
	pos := 0
	fail := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("Unparseable date: %q", s)
	}
	for i, tk := range f.tokens {
		if tk.letter == 0 {
			if !strings.HasPrefix(s[pos:], tk.lit) {
				return fail()
			}
			pos += len(tk.lit)
			continue
		}
		if isNumericToken(tk) {
			width := 0 // greedy
			if i+1 < len(f.tokens) && isNumericToken(f.tokens[i+1]) {
				width = tk.count
			}
			start := pos
			neg := false
			if pos < len(s) && (s[pos] == '-' || s[pos] == '+') && (tk.letter == 'y' || tk.letter == 'Y') {
				neg = s[pos] == '-'
				pos++
			}
			dstart := pos
			for pos < len(s) && s[pos] >= '0' && s[pos] <= '9' && (width == 0 || pos-dstart < width) {
				pos++
			}
			if pos == dstart {
				return fail()
			}
			n, _ := strconv.Atoi(s[dstart:pos])
			if neg {
				n = -n
			}
			switch tk.letter {
			case 'y', 'Y':
				if tk.count <= 2 && pos-start == 2 {
					n += f.defaultCenturyStart / 100 * 100
					if n < f.defaultCenturyStart {
						n += 100
					}
				}
				year = n
			case 'M', 'L':
				month = n
			case 'd':
				day = n
			case 'D':
				yday = n
			case 'u':
			case 'H':
				hour = n
			case 'k':
				if n == 24 {
					n = 0
				}
				hour = n
			case 'K':
				hour, h12 = n, true
			case 'h':
				if n == 12 {
					n = 0
				}
				hour, h12 = n, true
			case 'm':
				minute = n
			case 's':
				sec = n
			case 'S':
				ms = n
			}
			continue
		}
		rest := strings.ToLower(s[pos:])
		switch tk.letter {
		case 'M', 'L':
			found := false
			for mi, name := range monthNames {
				if strings.HasPrefix(rest, name) {
					month, pos, found = mi+1, pos+len(name), true
					break
				}
			}
			if !found {
				for mi, name := range monthNames {
					if strings.HasPrefix(rest, name[:3]) {
						month, pos, found = mi+1, pos+3, true
						break
					}
				}
			}
			if !found {
				return fail()
			}
		case 'E':
			found := false
			for _, name := range dayNames {
				if strings.HasPrefix(rest, name) {
					pos, found = pos+len(name), true
					break
				}
			}
			if !found {
				for _, name := range dayNames {
					if strings.HasPrefix(rest, name[:3]) {
						pos, found = pos+3, true
						break
					}
				}
			}
			if !found {
				return fail()
			}
		case 'a':
			switch {
			case strings.HasPrefix(rest, "am"):
				pos += 2
			case strings.HasPrefix(rest, "pm"):
				pm = true
				pos += 2
			default:
				return fail()
			}
			hasAmPm = true
		case 'G':
			if strings.HasPrefix(rest, "ad") || strings.HasPrefix(rest, "bc") {
				pos += 2
			} else {
				return fail()
			}
		case 'z', 'Z', 'X':
			n, off, ok := parseZone(s[pos:])
			if !ok {
				return fail()
			}
			pos += n
			offset = off
		}
	}
	if h12 && hasAmPm && pm {
		hour += 12
	} else if !h12 && hasAmPm && pm && hour < 12 {
		hour += 12
	}
	var t time.Time
	if yday > 0 && !f.has('M', 'L', 'd') {
		t = time.Date(year, 1, yday, hour, minute, sec, 0, time.UTC)
	} else {
		t = time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	}
	t = t.Add(time.Duration(ms) * time.Millisecond).Add(-time.Duration(offset) * time.Second)
	return t, nil
}

func (f *javaDateFormat) has(letters ...byte) bool {
	for _, tk := range f.tokens {
		for _, l := range letters {
			if tk.letter == l {
				return true
			}
		}
	}
	return false
}

// parseZone reads Z, UTC, GMT, GMT±hh:mm, ±hh, ±hhmm or ±hh:mm; it returns
// bytes consumed and the offset in seconds east of UTC.
func parseZone(s string) (int, int, bool) {
	up := strings.ToUpper(s)
	n := 0
	switch {
	case strings.HasPrefix(up, "UTC"), strings.HasPrefix(up, "GMT"):
		n = 3
	case strings.HasPrefix(up, "Z"):
		return 1, 0, true
	}
	rest := s[n:]
	if rest == "" || (rest[0] != '+' && rest[0] != '-') {
		return n, 0, n > 0
	}
	sign := 1
	if rest[0] == '-' {
		sign = -1
	}
	i := 1
	digits := func(max int) (int, int) {
		j := i
		for j < len(rest) && j-i < max && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		v, _ := strconv.Atoi(rest[i:j])
		return v, j - i
	}
	hh, c := digits(2)
	if c == 0 {
		return n, 0, n > 0
	}
	i += c
	mm := 0
	if i < len(rest) && rest[i] == ':' {
		i++
	}
	if m, c2 := digits(2); c2 == 2 {
		mm = m
		i += 2
	}
	return n + i, sign * (hh*3600 + mm*60), true
}
