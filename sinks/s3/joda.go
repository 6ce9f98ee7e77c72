package s3

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// jodaFormat is a compiled Joda-Time DateTimeFormat pattern (what
// path.format holds), printing only. Text fields (month and day names, era,
// half-day) are English whatever the locale.
type jodaFormat []jodaToken

type jodaToken struct {
	letter  byte // 0 for literal text
	count   int
	literal string
}

// compileJoda parses a pattern as DateTimeFormat.forPattern does: letters
// are fields (a run of one letter is one field, its length the width),
// text in single quotes is literal (two quotes are one quote), anything
// else is literal.
func compileJoda(pattern string) (jodaFormat, error) {
	var out jodaFormat
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, jodaToken{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			j := i + 1
			for ; j < len(pattern); j++ {
				if pattern[j] == '\'' {
					if j+1 < len(pattern) && pattern[j+1] == '\'' {
						lit.WriteByte('\'')
						j++
						continue
					}
					break
				}
				lit.WriteByte(pattern[j])
			}
			if j >= len(pattern) {
				return nil, fmt.Errorf("Invalid format: unterminated quote in %q", pattern)
			}
			i = j + 1
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			n := 1
			for i+n < len(pattern) && pattern[i+n] == c {
				n++
			}
			if !strings.ContainsRune("GCYyxweEDMdaKhHkmsSzZ", rune(c)) {
				return nil, fmt.Errorf("Illegal pattern component: %s", pattern[i:i+n])
			}
			flush()
			out = append(out, jodaToken{letter: c, count: n})
			i += n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return out, nil
}

func pad(b []byte, n int64, width int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// Append appends t (already in the wanted zone) formatted by f.
func (f jodaFormat) Append(b []byte, t time.Time) []byte {
	for _, tk := range f {
		if tk.letter == 0 {
			b = append(b, tk.literal...)
			continue
		}
		n := tk.count
		switch tk.letter {
		case 'G':
			if t.Year() <= 0 {
				b = append(b, "BC"...)
			} else {
				b = append(b, "AD"...)
			}
		case 'C':
			y := int64(t.Year())
			if y <= 0 {
				y = 1 - y
			}
			b = pad(b, y/100, n)
		case 'Y', 'y', 'x':
			y := int64(t.Year())
			if tk.letter == 'x' {
				wy, _ := t.ISOWeek()
				y = int64(wy)
			}
			if tk.letter == 'Y' && y <= 0 {
				y = 1 - y
			}
			if n == 2 {
				yy := y % 100
				if yy < 0 {
					yy = -yy
				}
				b = pad(b, yy, 2)
			} else {
				b = pad(b, y, n)
			}
		case 'w':
			_, w := t.ISOWeek()
			b = pad(b, int64(w), n)
		case 'e':
			wd := int64(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b = pad(b, wd, n)
		case 'E':
			if n >= 4 {
				b = append(b, t.Weekday().String()...)
			} else {
				b = append(b, t.Weekday().String()[:3]...)
			}
		case 'D':
			b = pad(b, int64(t.YearDay()), n)
		case 'M':
			switch {
			case n >= 4:
				b = append(b, t.Month().String()...)
			case n == 3:
				b = append(b, t.Month().String()[:3]...)
			default:
				b = pad(b, int64(t.Month()), n)
			}
		case 'd':
			b = pad(b, int64(t.Day()), n)
		case 'a':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'K':
			b = pad(b, int64(t.Hour()%12), n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b = pad(b, int64(h), n)
		case 'H':
			b = pad(b, int64(t.Hour()), n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b = pad(b, int64(h), n)
		case 'm':
			b = pad(b, int64(t.Minute()), n)
		case 's':
			b = pad(b, int64(t.Second()), n)
		case 'S':
			frac := fmt.Sprintf("%09d", t.Nanosecond())
			for len(frac) < n {
				frac += "0"
			}
			b = append(b, frac[:n]...)
		case 'z':
			if n >= 4 {
				b = append(b, t.Location().String()...)
			} else {
				b = append(b, t.Format("MST")...)
			}
		case 'Z':
			switch n {
			case 1:
				b = append(b, t.Format("-0700")...)
			case 2:
				b = append(b, t.Format("-07:00")...)
			default:
				b = append(b, t.Location().String()...)
			}
		}
	}
	return b
}
