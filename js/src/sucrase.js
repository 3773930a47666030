// Entry of vendor/sucrase.js, exposed as the global __appfn_sucrase: sucrase's transform(), plus
// trace-mapping to turn a V8 syntax error's position in the output back into the source's.
export { transform, getVersion } from "sucrase";
export { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
