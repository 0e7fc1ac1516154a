package sqlstore_test

import (
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

func TestContractSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sls.Store { return storetest.MustOpenSQLite(t) })
}

func TestContractPostgres(t *testing.T) {
	storetest.PostgresDSN(t) // skips when no server is configured
	storetest.Run(t, func(t *testing.T) sls.Store { return storetest.MustOpenPostgres(t) })
}
