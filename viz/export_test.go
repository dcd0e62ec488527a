package viz

// WritePaths exposes writePaths to the external tests.
var WritePaths = writePaths
