//go:build race

package fidelius

// raceEnabled makes the long randomized tests shorter under the race
// detector, which slows math/big and crypto about tenfold and finds nothing
// more in the extra iterations.
const raceEnabled = true
