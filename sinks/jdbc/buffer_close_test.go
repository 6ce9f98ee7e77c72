package jdbcsink

import (
	"fmt"
	"testing"
)

// TestDropPartitionsRestores checks the buffer surgery of ClosePartitions
// where ops of a closed partition had collapsed ops of the same key from a
// partition still owned: those come back.
func TestDropPartitionsRestores(t *testing.T) {
	sh := &shape{keyFP: "k"}
	mk := func(kind opKind, p int32, off int64, key string) *op {
		r := record("orders", p, off, nil, nil, nil, nil)
		return &op{kind: kind, rec: &r, key: key}
	}
	live := func(b *tableBuf) (out []string) {
		for _, ph := range b.phases {
			for _, o := range ph.deletes {
				out = append(out, fmt.Sprintf("d%s@%d/%d", o.key, o.rec.Partition, o.rec.Offset))
			}
			for _, o := range ph.writes {
				if !o.dead {
					out = append(out, fmt.Sprintf("w%s@%d/%d", o.key, o.rec.Partition, o.rec.Offset))
				}
			}
		}
		return out
	}
	closed0 := map[tp]bool{{"orders", 0}: true}
	for _, c := range []struct {
		name string
		ops  []*op
		want string
	}{
		{"write of closed replaced kept write", []*op{mk(opWrite, 1, 5, "K"), mk(opWrite, 0, 7, "K")}, "[wK@1/5]"},
		{"delete of closed cancelled kept write", []*op{mk(opWrite, 1, 5, "K"), mk(opDelete, 0, 7, "K")}, "[wK@1/5]"},
		{"kept delete still cancels", []*op{mk(opWrite, 0, 5, "K"), mk(opWrite, 1, 6, "K"), mk(opDelete, 1, 8, "K")}, "[dK@1/8]"},
		{"kept write after closed delete", []*op{mk(opWrite, 1, 5, "K"), mk(opDelete, 0, 7, "K"), mk(opWrite, 1, 9, "K")}, "[wK@1/9]"},
		{"closed delete replaced kept delete", []*op{mk(opDelete, 1, 5, "K"), mk(opDelete, 0, 7, "K")}, "[dK@1/5]"},
		{"closed only", []*op{mk(opWrite, 0, 1, "A"), mk(opWrite, 0, 2, "B")}, "[]"},
		{"other keys kept", []*op{mk(opWrite, 0, 1, "A"), mk(opWrite, 1, 2, "B")}, "[wB@1/2]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b tableBuf
			for _, o := range c.ops {
				b.noteOffset(o.partition(), o.rec.Offset)
				if o.kind == opDelete {
					b.addDelete(sh, o)
				} else {
					b.addWrite(sh, o)
				}
			}
			b.dropPartitions(closed0)
			if got := fmt.Sprint(live(&b)); got != c.want {
				t.Errorf("after closing partition 0: %s, want %s", got, c.want)
			}
			if _, ok := b.offs[tp{"orders", 0}]; ok {
				t.Error("offset of closed partition 0 still noted")
			}
		})
	}
}
