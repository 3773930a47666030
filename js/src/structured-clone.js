// structuredClone (@ungap/structured-clone): serialise to records, then rebuild.
import structuredClone from "@ungap/structured-clone";
export { structuredClone };
