package server_test

import (
	"testing"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestForwardedBlockUsesItsOwnTables: a block on a follower that creates a
// table goes on using it — indexes, constraints, writes, reads — although
// the follower's own schema does not have the table until COMMIT: what the
// follower cannot translate, the leader-side block does (Django's and
// Alembic's migrations, run through a follower).
func TestForwardedBlockUsesItsOwnTables(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	conn := connect(t, c.Followers()[0])
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "CREATE TABLE fb (id int PRIMARY KEY, name text NOT NULL)")
	mustExec(t, conn, "CREATE INDEX fb_name_lower ON fb (lower(name))")
	mustExec(t, conn, "CREATE VIEW fb_names AS SELECT name FROM fb")
	mustExec(t, conn, "INSERT INTO fb VALUES (1, 'x'), (2, 'y')")
	if n := count(t, conn, "SELECT count(*) FROM fb_names"); n != 2 {
		t.Fatalf("%d rows through the block's view, want 2", n)
	}
	mustExec(t, conn, "COMMIT")
	c.RequireConverged()
	for i, n := range c.Nodes {
		if got := count(t, connect(t, n), "SELECT count(*) FROM fb"); got != 2 {
			t.Errorf("node %d: %d rows, want 2", i, got)
		}
	}
}
