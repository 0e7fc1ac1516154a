package cryptotrade

import (
	"time"

	"github.com/secure-login-system/sls/cryptorules"
)

// DefaultJobEvery is how often the custody job looks for work: hourly,
// so a day's snapshot is taken within the hour after midnight UTC on
// whichever node claims the run.
const DefaultJobEvery = time.Hour

// Config is the "crypto" section resolved (package config builds it).
type Config struct {
	// Enabled offers cryptocurrency trading (the Hong Kong entity only);
	// off, the routes answer crypto_disabled and the job does nothing.
	Enabled bool
	Rules   cryptorules.Rules
	// JobEvery is the custody job's period.
	JobEvery time.Duration
}
