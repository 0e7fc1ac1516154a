// Package e2e holds the end-to-end tests: the real programs (slsd, slsctl,
// dsccard, ibkey) built from this tree, started on free ports with
// temporary data directories, and driven as a person or an operator would.
// They run on SQLite always and on PostgreSQL when SLS_TEST_POSTGRES names
// a server. Nothing here is mocked.
package e2e
