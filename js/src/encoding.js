// UTF-8 TextEncoder/TextDecoder (the Encoding Standard's reference polyfill, UTF-8 only).
export { TextEncoder, TextDecoder } from "text-encoding-utf-8";
