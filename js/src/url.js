// WHATWG URL and URLSearchParams (expo/whatwg-url-minimum, derived from jsdom/whatwg-url).
export { URL, URLSearchParams } from "whatwg-url-minimum";
