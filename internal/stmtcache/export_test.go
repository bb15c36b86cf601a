package stmtcache

// SetMaxStatements sets the cache's bound for a test and returns the undo.
func SetMaxStatements(n int) func() {
	old := maxStatements
	maxStatements = n
	return func() { maxStatements = old }
}

// CacheSetting exposes the URL switch to the tests.
var CacheSetting = cacheSetting
