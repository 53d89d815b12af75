package store

// MaxConns is the most connections db's pool opens.
func MaxConns(db *DB) int32 { return db.pool.Config().MaxConns }
