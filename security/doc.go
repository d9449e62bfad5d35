// Package security holds the regression tests of the security review
// (issue 8): one test per attempt of a finding, named for it
// (TestFinding4..., TestFinding5...), each failing on the code the review
// found and passing now. Unit-level tests run recipes in process on a
// fake host or on --root under a temporary directory; what only a process
// can show (no Go fatal error, an exit on SIGTERM while a builtin does not
// return, the memory and time budgets) runs the kubelark binary, built
// once into a temporary directory by TestMain. None needs root.
package security
