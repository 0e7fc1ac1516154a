package config

import (
	"time"

	"github.com/secure-login-system/sls/config/field"
	"github.com/secure-login-system/sls/diagnostics"
)

// Diagnostics is the "diagnostics" section: where uploaded diagnostics
// bundles are kept, for how long, and how large they may be
// (docs/diagnostics.md explains each number).
type Diagnostics struct {
	// Dir holds one folder per bundle (default DATA/diagnostics). Nodes
	// serving one database must share it (network file system).
	Dir string `json:"dir,omitempty"`
	// RetentionDays is how long a bundle is kept (default 30).
	RetentionDays int `json:"retention_days,omitempty"`
	// MaxArchiveBytes caps the logs archive (default 50 MiB),
	// MaxScreenshotBytes each screenshot (default 10 MiB), MaxScreenshots
	// their number (default 5).
	MaxArchiveBytes    int64 `json:"max_archive_bytes,omitempty"`
	MaxScreenshotBytes int64 `json:"max_screenshot_bytes,omitempty"`
	MaxScreenshots     int   `json:"max_screenshots,omitempty"`
	// MaxPerUsername caps the bundles uploaded under one username in 24
	// hours (default 10).
	MaxPerUsername int `json:"max_per_username,omitempty"`
	// MaxEntries, MaxUncompressedBytes and MaxRatio bound what a logs
	// archive may hold (defaults 2000 entries, 512 MiB, 100 to 1).
	MaxEntries           int   `json:"max_entries,omitempty"`
	MaxUncompressedBytes int64 `json:"max_uncompressed_bytes,omitempty"`
	MaxRatio             int64 `json:"max_ratio,omitempty"`
}

// DiagnosticsConfig returns the "diagnostics" section checked, with every
// default but the folder filled in.
func (f *File) DiagnosticsConfig() (diagnostics.Config, error) {
	d := f.Diagnostics
	var errs field.Errors
	c := diagnostics.Config{Dir: d.Dir, Retention: time.Duration(d.RetentionDays) * 24 * time.Hour,
		MaxArchiveBytes: d.MaxArchiveBytes, MaxScreenshotBytes: d.MaxScreenshotBytes, MaxScreenshots: d.MaxScreenshots,
		MaxPerUsername: d.MaxPerUsername,
		Archive:        diagnostics.ArchiveLimits{MaxEntries: d.MaxEntries, MaxUncompressed: d.MaxUncompressedBytes, MaxRatio: d.MaxRatio}}
	def := diagnostics.DefaultArchiveLimits
	if c.Archive.MaxEntries == 0 {
		c.Archive.MaxEntries = def.MaxEntries
	}
	if c.Archive.MaxUncompressed == 0 {
		c.Archive.MaxUncompressed = def.MaxUncompressed
	}
	if c.Archive.MaxRatio == 0 {
		c.Archive.MaxRatio = def.MaxRatio
	}
	c = c.WithDefaults()
	if d.RetentionDays < 0 || d.RetentionDays > 3650 {
		errs.Addf("retention_days", "%d must be between 1 and 3650", d.RetentionDays)
	}
	if c.MaxArchiveBytes < 1024 || c.MaxArchiveBytes > 4<<30 {
		errs.Addf("max_archive_bytes", "%d must be between 1 KiB and 4 GiB", c.MaxArchiveBytes)
	}
	if c.MaxScreenshotBytes < 1024 || c.MaxScreenshotBytes > 1<<30 {
		errs.Addf("max_screenshot_bytes", "%d must be between 1 KiB and 1 GiB", c.MaxScreenshotBytes)
	}
	if c.MaxScreenshots < 1 || c.MaxScreenshots > 20 {
		errs.Addf("max_screenshots", "%d must be between 1 and 20", c.MaxScreenshots)
	}
	if c.MaxPerUsername < 1 || c.MaxPerUsername > 1000 {
		errs.Addf("max_per_username", "%d must be between 1 and 1000", c.MaxPerUsername)
	}
	if c.Archive.MaxEntries < 1 || c.Archive.MaxEntries > 100000 {
		errs.Addf("max_entries", "%d must be between 1 and 100000", c.Archive.MaxEntries)
	}
	if c.Archive.MaxUncompressed < 1024 || c.Archive.MaxUncompressed > 16<<30 {
		errs.Addf("max_uncompressed_bytes", "%d must be between 1 KiB and 16 GiB", c.Archive.MaxUncompressed)
	}
	if c.Archive.MaxRatio < 2 || c.Archive.MaxRatio > 10000 {
		errs.Addf("max_ratio", "%d must be between 2 and 10000", c.Archive.MaxRatio)
	}
	return c, field.Within("diagnostics", errs.Err())
}
