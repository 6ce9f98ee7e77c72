package jsonconv

// AppendJavaDouble appends f formatted as Java's Double.toString (bits=64) or
// Float.toString (bits=32), which is also how Jackson writes JSON numbers of
// those types; NaN and infinities become quoted strings.
func AppendJavaDouble(b []byte, f float64, bits int) []byte { return appendJavaDouble(b, f, bits) }

// AppendString appends s as a JSON string escaped as Jackson escapes it,
// characters beyond the Basic Multilingual Plane written as UTF-8 (the
// other converters' writers; JsonConverter escapes them, see appendStringEsc).
func AppendString(b []byte, s string) []byte { return appendStringEsc(b, s, false) }
