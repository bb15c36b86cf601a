package store

import "context"

// CurrentTermsVersion reads the newest published terms version already in
// effect.
func CurrentTermsVersion(ctx context.Context, q Q) (string, error) {
	var v string
	err := getOne(ctx, q, &v, `SELECT version FROM terms_versions
		WHERE published_at IS NOT NULL AND effective_at <= now() ORDER BY effective_at DESC, version DESC LIMIT 1`)
	return v, err
}
