package translate

import "testing"

func BenchmarkTranslatePointSelect(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := SQL("SELECT id, balance FROM accounts WHERE id = $1", nil, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
