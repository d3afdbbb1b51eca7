package translate

// Test hooks for the package's external tests (package translate_test),
// which may import sqlengine without translate itself depending on it.
var (
	DepthShapeGens = func() []func(int) string {
		gens := make([]func(int) string, len(depthShapes))
		for i, s := range depthShapes {
			gens[i] = s.gen
		}
		return gens
	}
	LargestAllowed = largestAllowed
)
