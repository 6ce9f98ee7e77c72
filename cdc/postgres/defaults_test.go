package postgres

import "testing"

func TestDefaultLiteral(t *testing.T) {
	for _, tc := range []struct {
		expr, want string
		ok         bool
	}{
		{"'basic'::character varying", "basic", true},
		{"'it''s'::text", "it's", true},
		{"''::text", "", true},
		{"'-1'::integer", "-1", true},
		{"'{}'::jsonb", "{}", true},
		{"'{a,b}'::text[]", "{a,b}", true},
		{"'2024-01-01 00:00:00'::timestamp without time zone", "2024-01-01 00:00:00", true},
		{`'happy'::"Mood"`, "happy", true},
		{"'ok'::public.mood", "ok", true},
		{"'x'::character varying(10)", "x", true},
		{"0", "0", true},
		{"1.50", "1.50", true},
		{"(-2)", "-2", true},
		{"'-1.5'::numeric", "-1.5", true},
		{"42::bigint", "42", true},
		{"true", "t", true},
		{"false", "f", true},
		{"now()", "", false},
		{"CURRENT_TIMESTAMP", "", false},
		{"nextval('orders_id_seq'::regclass)", "", false},
		{"NULL::character varying", "", false},
		{"('a'::text || 'b'::text)", "", false},
		{"'a'::text || 'b'::text", "", false},
		{"(1 + 2)", "", false},
		{"'unterminated", "", false},
		{"gen_random_uuid()", "", false},
	} {
		got, ok := defaultLiteral(tc.expr)
		if ok != tc.ok || got != tc.want {
			t.Errorf("defaultLiteral(%q) = %q, %v; want %q, %v", tc.expr, got, ok, tc.want, tc.ok)
		}
	}
}
