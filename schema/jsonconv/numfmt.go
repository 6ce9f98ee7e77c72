package jsonconv

import (
	"math"
	"math/big"
	"strconv"
)

// appendJavaDouble appends f as Java's Double.toString (bits=64) or
// Float.toString (bits=32) writes it (JDK 19+): shortest digits that round-trip
// (at least two considered), plain
// notation with at least one fractional digit for 1e-3 <= |f| < 1e7,
// otherwise computerized scientific notation ("1.0E7", "1.5E-4").
// NaN and infinities are written as Jackson does by default: quoted strings.
func appendJavaDouble(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits)
	if len(e) > 1 && (e[1] == 'e' || (e[0] == '-' && e[2] == 'e')) {
		// One significant digit: Java (JDK 19+) picks the closest decimal of
		// length 1 or 2, e.g. 4.9E-324 rather than 5E-324 for Double.MIN_VALUE.
		e = strconv.AppendFloat(tmp[:0], f, 'e', 1, bits)
	}
	// e is [-]d[.ddd]e(+|-)XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		b = append(b, '-')
	}
	var digits [24]byte
	nd := 0
	i := 0
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[nd] = e[i]
			nd++
		}
	}
	if nd == 2 && digits[1] == '0' {
		nd = 1 // the two-digit form was d.0
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	d := digits[:nd]
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		if exp >= 0 {
			// integer part: digits[0..exp], padded with zeros
			for k := 0; k <= exp; k++ {
				if k < nd {
					b = append(b, d[k])
				} else {
					b = append(b, '0')
				}
			}
			b = append(b, '.')
			if exp+1 < nd {
				b = append(b, d[exp+1:]...)
			} else {
				b = append(b, '0')
			}
			return b
		}
		b = append(b, '0', '.')
		for k := 0; k < -exp-1; k++ {
			b = append(b, '0')
		}
		return append(b, d...)
	}
	b = append(b, d[0], '.')
	if nd > 1 {
		b = append(b, d[1:]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}

// appendBigDecimal appends unscaled×10^-scale as Java's BigDecimal.toString:
// plain notation when scale >= 0 and the adjusted exponent is >= -6,
// otherwise scientific notation with an explicit exponent sign ("1E-7", "1.2E+3").
func appendBigDecimal(b []byte, unscaled *big.Int, scale int32) []byte {
	s := unscaled.String()
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	if neg {
		b = append(b, '-')
	}
	adjusted := -int64(scale) + int64(len(s)-1)
	if scale >= 0 && adjusted >= -6 {
		if scale == 0 {
			return append(b, s...)
		}
		pad := int(scale) - len(s)
		if pad >= 0 {
			b = append(b, '0', '.')
			for ; pad > 0; pad-- {
				b = append(b, '0')
			}
			return append(b, s...)
		}
		cut := len(s) - int(scale)
		b = append(b, s[:cut]...)
		b = append(b, '.')
		return append(b, s[cut:]...)
	}
	b = append(b, s[0])
	if len(s) > 1 {
		b = append(b, '.')
		b = append(b, s[1:]...)
	}
	b = append(b, 'E')
	if adjusted >= 0 {
		b = append(b, '+')
	}
	return strconv.AppendInt(b, adjusted, 10)
}
