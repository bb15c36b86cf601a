package testenv

import "hrss-backoffice/internal/synthetic"

// SeedOptions shape bulk-seeded users (synthetic.SeedOptions).
type SeedOptions = synthetic.SeedOptions

// SeedUsers writes n users with agreements in force directly with
// set-based SQL (synthetic.SeedUsers, which the benchmark uses too).
var SeedUsers = synthetic.SeedUsers
