package ddb

import (
	"testing"
	"time"
)

// A second holder of a key waits, is told who holds it, and gets it once released; a
// free key is taken without a wait report. Catches: a wait report without the holder's
// name, or the lock not excluding the second holder.
func TestKeyedMutexLockAs(t *testing.T) {
	var k KeyedMutex
	unlock := k.LockAs("orders", "creating the replica in eu-west-1", func(string) {
		t.Error("a free key reported a wait")
	})
	waitedFor := make(chan string, 1)
	acquired := make(chan struct{})
	go func() {
		u := k.LockAs("orders", "creating the replica in us-west-2", func(heldBy string) { waitedFor <- heldBy })
		close(acquired)
		u()
	}()
	select {
	case got := <-waitedFor:
		if got != "creating the replica in eu-west-1" {
			t.Errorf("waiting for %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second holder did not report its wait")
	}
	select {
	case <-acquired:
		t.Fatal("the second holder got the key while the first held it")
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	select {
	case <-acquired:
	case <-time.After(5 * time.Second):
		t.Fatal("the second holder never got the released key")
	}
	// Another key is independent.
	k.LockAs("users", "", func(string) { t.Error("an unrelated key reported a wait") })()
}
