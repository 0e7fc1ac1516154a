package cryptorules

// The trading hours are stated in US Eastern time; embedding the zone
// database keeps them right on a host (or container) without one.
import _ "time/tzdata"
