package oidcprovider

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/seal"
)

// keyBits is the RSA modulus size: RS256 is the one algorithm every
// relying party must accept (OIDC Core §15.1), and NIST SP 800-57 Part 1
// Table 2 gives 2048-bit RSA 112-bit security through 2030.
const keyBits = 2048

// keyCacheFor is how long a node trusts its copy of the key list; a key
// made on another node is published ahead of use by much more.
const keyCacheFor = 30 * time.Second

// keyRetain is how long a key stays in the key set after it stopped
// signing: longer than any token it signed lives, and long enough for
// ID tokens used as logout hints.
const keyRetain = 24 * time.Hour

// KeyPlace is where a signing key's private half is sealed.
func KeyPlace(kid string) seal.Place {
	return seal.Place{Table: "oidc_keys", Column: "private_sealed", Row: kid}
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct {
	id  string
	key any
}

func (k *publicKey) ID() string                         { return k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return k.key }

// keyring serves the signing key and the published key set from the
// store, cached briefly.
type keyring struct {
	p        *Provider
	mu       sync.Mutex
	loadedAt time.Time
	keys     []*sls.OIDCKey
	private  map[string]*rsa.PrivateKey
}

func (k *keyring) load(ctx context.Context, now time.Time) ([]*sls.OIDCKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys != nil && now.Sub(k.loadedAt) < keyCacheFor && now.After(k.loadedAt) {
		return k.keys, nil
	}
	var keys []*sls.OIDCKey
	if err := k.p.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		keys, err = tx.OIDCKeys(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	k.keys, k.loadedAt = keys, now
	return keys, nil
}

func (k *keyring) forget() {
	k.mu.Lock()
	k.keys = nil
	k.mu.Unlock()
}

// current is the newest key that is active and not retired at now.
func current(keys []*sls.OIDCKey, now time.Time) *sls.OIDCKey {
	for _, key := range keys { // newest first
		if !key.ActiveAt.After(now) && (key.RetireAt.IsZero() || now.Before(key.RetireAt)) {
			return key
		}
	}
	return nil
}

func (k *keyring) signing(ctx context.Context) (op.SigningKey, error) {
	now := k.p.now()
	keys, err := k.load(ctx, now)
	if err != nil {
		return nil, err
	}
	cur := current(keys, now)
	if cur == nil { // the very first use: make one now
		if err := k.p.RotateKeys(ctx, sls.ActorSystem, true); err != nil {
			return nil, err
		}
		if keys, err = k.load(ctx, now); err != nil {
			return nil, err
		}
		if cur = current(keys, now); cur == nil {
			return nil, errors.New("oidc: no signing key")
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if priv := k.private[cur.ID]; priv != nil {
		return &signingKey{id: cur.ID, key: priv}, nil
	}
	der, err := k.p.d.Sealer.Open(KeyPlace(cur.ID), cur.Private)
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key %s: %w", cur.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	priv, ok := parsed.(*rsa.PrivateKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("oidc: signing key %s is not an RSA key", cur.ID)
	}
	if k.private == nil {
		k.private = map[string]*rsa.PrivateKey{}
	}
	k.private[cur.ID] = priv
	return &signingKey{id: cur.ID, key: priv}, nil
}

// published is the key set: every key not yet retired, including the
// next one before it signs.
func (k *keyring) published(ctx context.Context) ([]op.Key, error) {
	now := k.p.now()
	keys, err := k.load(ctx, now)
	if err != nil {
		return nil, err
	}
	var out []op.Key
	for _, key := range keys {
		if !key.RetireAt.IsZero() && !now.Before(key.RetireAt) {
			continue
		}
		pub, err := x509.ParsePKIXPublicKey(key.Public)
		if err != nil {
			return nil, fmt.Errorf("oidc: public key %s: %w", key.ID, err)
		}
		out = append(out, &publicKey{id: key.ID, key: pub})
	}
	return out, nil
}

// RotateKeys keeps the signing keys on schedule: the first key is made
// active at once; a new one is made and published KeyPublishAhead before
// the current one has signed for KeyRotation (or at once when force is
// set, active immediately when there is none); keys a newer active key
// replaced are given their retirement. Run by a scheduled job on one node
// at a time, and by slsctl oidc keys rotate.
func (p *Provider) RotateKeys(ctx context.Context, actor string, force bool) error {
	now := p.now()
	err := p.d.Store.Update(ctx, func(tx sls.Tx) error {
		keys, err := tx.OIDCKeys(ctx)
		if err != nil {
			return err
		}
		cur := current(keys, now)
		pending := len(keys) > 0 && keys[0].ActiveAt.After(now)
		switch {
		case cur == nil && !pending:
			if err := p.newKey(ctx, tx, actor, now, now); err != nil {
				return err
			}
		case !pending && (force || !now.Before(cur.ActiveAt.Add(p.cfg.KeyRotation-p.cfg.KeyPublishAhead))):
			if err := p.newKey(ctx, tx, actor, now, now.Add(p.cfg.KeyPublishAhead)); err != nil {
				return err
			}
		}
		if cur == nil {
			return nil
		}
		for _, key := range keys {
			if key.ActiveAt.Before(cur.ActiveAt) && key.RetireAt.IsZero() {
				key.RetireAt = cur.ActiveAt.Add(keyRetain)
				if err := tx.PutOIDCKey(ctx, key); err != nil {
					return err
				}
			}
		}
		return nil
	})
	p.keys.forget()
	return err
}

func (p *Provider) newKey(ctx context.Context, tx sls.Tx, actor string, now, activeAt time.Time) error {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return fmt.Errorf("oidc: key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return err
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	kid := hex.EncodeToString(id)
	sealed, err := p.d.Sealer.Seal(KeyPlace(kid), der)
	if err != nil {
		return err
	}
	if err := tx.CreateOIDCKey(ctx, &sls.OIDCKey{ID: kid, Algorithm: string(jose.RS256), Private: sealed, Public: pub, CreatedAt: now, ActiveAt: activeAt}); err != nil {
		return err
	}
	return audit(ctx, tx, now, actor, EventKeyCreated, "", map[string]any{"kid": kid, "active_at": activeAt})
}

// Maintain is the scheduled job: keys on schedule, expired state purged.
func (p *Provider) Maintain(ctx context.Context, now time.Time) error {
	if err := p.RotateKeys(ctx, sls.ActorSystem, false); err != nil {
		return err
	}
	return p.d.Store.Update(ctx, func(tx sls.Tx) error { return tx.PurgeOIDC(ctx, now) })
}
