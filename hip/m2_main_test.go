package hip

import (
	"testing"

	"github.com/sangamhealth/sangam/database/databasetest"
)

// TestMain gives the package its own test database. (One TestMain per
// package: the HIP helpers share this one.)
func TestMain(m *testing.M) { databasetest.Main(m) }
