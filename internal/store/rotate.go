package store

import (
	"context"
	"fmt"
)

// RotateSecrets re-seals, under the keyring's primary key, every stored
// secret sealed with another key, in one transaction, and returns how many
// values it re-sealed. Run it after adding a new primary key; once it returns,
// old keys can be dropped from configuration.
func (db *DB) RotateSecrets(ctx context.Context) (int, error) {
	n := 0
	err := db.InTx(ctx, func(tx *DB) error {
		type sealedValue struct {
			table, column string
			id            any
			aad           string
			sealed        []byte
		}
		var todo []sealedValue

		nodes, err := queryAll(ctx, tx.q, func(r rowScanner) ([]sealedValue, error) {
			var id int64
			var name string
			var token, password, key []byte
			if err := r.Scan(&id, &name, &token, &password, &key); err != nil {
				return nil, err
			}
			return []sealedValue{
				{"nodes", fieldTokenSecret, id, nodeAAD(name, fieldTokenSecret), token},
				{"nodes", fieldSSHPassword, id, nodeAAD(name, fieldSSHPassword), password},
				{"nodes", fieldSSHPrivateKey, id, nodeAAD(name, fieldSSHPrivateKey), key},
			}, nil
		}, `SELECT id, name, token_secret, ssh_password, ssh_private_key FROM nodes ORDER BY id FOR UPDATE`)
		if err != nil {
			return err
		}
		for _, vs := range nodes {
			todo = append(todo, vs...)
		}

		creds, err := queryAll(ctx, tx.q, func(r rowScanner) (sealedValue, error) {
			var id int64
			var container, service, key string
			var value []byte
			err := r.Scan(&id, &container, &service, &key, &value)
			return sealedValue{"credentials", "value", id, credentialAAD(container, service, key), value}, err
		}, `SELECT id, container_id, service, key, value FROM credentials ORDER BY id FOR UPDATE`)
		if err != nil {
			return err
		}
		todo = append(todo, creds...)

		for _, v := range todo {
			if v.sealed == nil || !tx.kr.NeedsRotation(v.sealed) {
				continue
			}
			plain, err := tx.kr.Open(v.sealed, []byte(v.aad))
			if err != nil {
				return fmt.Errorf("opening %s.%s of row %v: %w", v.table, v.column, v.id, err)
			}
			resealed, err := tx.kr.Seal(plain, []byte(v.aad))
			clear(plain)
			if err != nil {
				return fmt.Errorf("sealing %s.%s of row %v: %w", v.table, v.column, v.id, err)
			}
			// table and column come from the constants above, never from input.
			if _, err := tx.q.Exec(ctx, `UPDATE `+v.table+` SET `+v.column+` = $2 WHERE id = $1`, v.id, resealed); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, wrapf(err, "rotating stored secrets")
	}
	if n > 0 {
		db.log.InfoContext(ctx, "re-sealed stored secrets with the primary key", "count", n)
	}
	return n, nil
}
