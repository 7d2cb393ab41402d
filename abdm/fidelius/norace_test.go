//go:build !race

package fidelius

const raceEnabled = false
