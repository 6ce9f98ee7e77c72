package mysql

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// charsetDecoder returns a function turning column bytes in the MySQL
// character set name into UTF-8. The binlog carries string values in the
// column's own character set; snapshot reads arrive already converted to the
// connection's utf8mb4.
func charsetDecoder(name string) func(string) string {
	var enc encoding.Encoding
	switch strings.ToLower(name) {
	case "", "utf8", "utf8mb3", "utf8mb4", "ascii", "binary":
		return func(s string) string { return s }
	case "latin1":
		// MySQL's latin1 is Windows-1252; the five bytes cp1252 leaves
		// undefined map to the C1 controls, as MySQL does.
		return decodeLatin1
	case "latin2":
		enc = charmap.ISO8859_2
	case "latin5":
		enc = charmap.ISO8859_9
	case "latin7":
		enc = charmap.ISO8859_13
	case "cp1250":
		enc = charmap.Windows1250
	case "cp1251":
		enc = charmap.Windows1251
	case "cp1256":
		enc = charmap.Windows1256
	case "cp1257":
		enc = charmap.Windows1257
	case "cp850":
		enc = charmap.CodePage850
	case "cp852":
		enc = charmap.CodePage852
	case "cp866":
		enc = charmap.CodePage866
	case "koi8r":
		enc = charmap.KOI8R
	case "koi8u":
		enc = charmap.KOI8U
	case "greek":
		enc = charmap.ISO8859_7
	case "hebrew":
		enc = charmap.ISO8859_8
	case "macroman":
		enc = charmap.Macintosh
	case "sjis", "cp932":
		enc = japanese.ShiftJIS
	case "ujis", "eucjpms":
		enc = japanese.EUCJP
	case "euckr":
		enc = korean.EUCKR
	case "gbk", "gb2312":
		enc = simplifiedchinese.GBK
	case "gb18030":
		enc = simplifiedchinese.GB18030
	case "big5":
		enc = traditionalchinese.Big5
	case "ucs2", "utf16":
		enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	case "utf16le":
		enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	default:
		return func(s string) string { return s }
	}
	dec := enc
	return func(s string) string {
		if isASCII(s) {
			return s
		}
		out, err := dec.NewDecoder().String(s)
		if err != nil {
			return strings.ToValidUTF8(s, string(utf8.RuneError))
		}
		return out
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func decodeLatin1(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 {
			b.WriteByte(c)
			continue
		}
		r := charmap.Windows1252.DecodeByte(c)
		if r == utf8.RuneError {
			r = rune(c)
		}
		b.WriteRune(r)
	}
	return b.String()
}
