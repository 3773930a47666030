/* appfn JS prelude: the globals an App Function sees, as the original V8-isolate runtime gives them.
 *
 * Evaluated once in every fresh context, after vendor/polyfills.js and before the function's code.
 * Hand-written (only what is small); the bigger Web APIs come lazily from vendor/polyfills.js.
 *
 * Talking to the host (engine.py) never blocks either side: JS queues messages in an outbox and
 * rings a bell (a one-way host notification that carries nothing); the host then pulls the outbox
 * with a cancelable eval and answers host calls with another eval of __appfn_deliver(...). So the
 * host never makes a synchronous call into a context that may be running user code.
 *
 * The script's value is the object whose `bell` property the host sets to its notification.
 */
(function (G) {
  "use strict";

  const vendorSource = G.__appfn_vendor || {};
  delete G.__appfn_vendor;
  const indirectEval = G.eval;
  const vendor = (name) => indirectEval(vendorSource[name]);
  // WebAssembly memory lives outside the V8 heap (no limit applies) and is not part of the
  // original runtime's documented surface.
  delete G.WebAssembly;

  const O = Object;
  const define = (obj, name, value) => {
    const d = O.getOwnPropertyDescriptor(obj, name);
    if (d && !d.configurable) obj[name] = value; // mini-racer's `var setTimeout` and the like
    else O.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  };
  const NativeSAB = G.SharedArrayBuffer;
  const NativeU8 = G.Uint8Array;
  const nativeFromBase64 = NativeU8.fromBase64;
  // The channel keeps its own references, so user code that replaces a built-in breaks only itself.
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const waitAsync = Atomics.waitAsync;
  // The timers below are built on it; left to user code it would schedule work that no invocation
  // owns (a warm context must be idle between invocations), so it is taken away, like WebAssembly.
  delete Atomics.waitAsync;

  // ------------------------------------------------------------------ host channel
  const slot = { bell: null }; // the host puts its bell here (one property write, no call)
  // True while the host has a pull of the outbox queued behind the script it is running (it does
  // for every invocation): what is posted until then needs no bell, which saves a thread hop.
  let pullQueued = false;
  const bell = () => {
    if (!pullQueued && typeof slot.bell === "function") slot.bell();
  };
  let outbox = [];
  let logs = [];
  let logCount = 0;
  let logSize = 0;
  let logDropped = 0;
  let limits = { lines: 1000, bytes: 65536, extBytes: 128 * 1048576, fetches: 100, bodyBytes: 10485760 };
  const MAX_LINE_CHARS = 4096; // as appfn.runtime.worker.console, which the host applies again
  let filename = "handler.ts";
  let nextCallId = 1;
  const pending = new Map(); // call id -> {resolve, reject}
  // False once an invocation has answered (and before the next starts, in a reused context): from
  // then on its leftovers (a timer, a late fetch, a log line) reach neither the host nor the next one.
  let active = true;

  function post(msg) {
    if (!active) return;
    outbox.push(msg);
    if (outbox.length === 1) bell();
  }

  function take() {
    const out = stringify({ m: outbox, l: logs, d: logDropped });
    outbox = [];
    logs = [];
    return out;
  }

  const MAX_PENDING = 32; // host calls in flight; the host refuses more
  function hostCall(op, args) {
    const id = nextCallId++;
    if (!active) {
      return { id, promise: Promise.reject({ kind: "finished", message: "the invocation has already answered" }) };
    }
    if (pending.size >= MAX_PENDING) {
      const error = { kind: "too_many", message: `over ${MAX_PENDING} host calls in flight` };
      return { id, promise: Promise.reject(error) };
    }
    const promise = new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
    });
    post(O.assign({ k: "call", id, op }, args));
    return { id, promise };
  }

  function deliver(replyJson) {
    const reply = parse(replyJson);
    const waiter = pending.get(reply.id);
    if (waiter === undefined) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(reply.error);
  }

  // ------------------------------------------------------------------ DOMException, events
  const DOM_CODES = { IndexSizeError: 1, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11,
    SyntaxError: 12, InvalidAccessError: 15, TypeMismatchError: 17, AbortError: 20, QuotaExceededError: 22,
    TimeoutError: 23, DataCloneError: 25, InvalidCharacterError: 5, OperationError: 0 };
  class DOMException extends Error {
    constructor(message = "", name = "Error") {
      super(String(message));
      define(this, "name", String(name));
    }
    get code() {
      return DOM_CODES[this.name] || 0;
    }
  }

  class Event {
    constructor(type, init = {}) {
      this.type = String(type);
      this.bubbles = !!init.bubbles;
      this.cancelable = !!init.cancelable;
      this.defaultPrevented = false;
      this.target = null;
      this.currentTarget = null;
      this.timeStamp = Date.now();
    }
    preventDefault() {
      if (this.cancelable) this.defaultPrevented = true;
    }
    stopPropagation() {}
    stopImmediatePropagation() {
      this._stop = true;
    }
  }

  class EventTarget {
    #listeners = new Map();
    addEventListener(type, listener, options) {
      if (listener == null) return;
      const once = typeof options === "object" && options !== null && !!options.once;
      const list = this.#listeners.get(type) || [];
      if (!list.some((l) => l.listener === listener)) list.push({ listener, once });
      this.#listeners.set(type, list);
      const signal = typeof options === "object" && options !== null ? options.signal : undefined;
      if (signal) signal.addEventListener("abort", () => this.removeEventListener(type, listener));
    }
    removeEventListener(type, listener) {
      const list = this.#listeners.get(type);
      if (list) this.#listeners.set(type, list.filter((l) => l.listener !== listener));
    }
    dispatchEvent(event) {
      event.target = event.currentTarget = this;
      const handler = this["on" + event.type];
      const list = (this.#listeners.get(event.type) || []).slice();
      if (typeof handler === "function") list.unshift({ listener: handler, once: false });
      for (const { listener, once } of list) {
        if (once) this.removeEventListener(event.type, listener);
        try {
          if (typeof listener === "function") listener.call(this, event);
          else if (listener && typeof listener.handleEvent === "function") listener.handleEvent(event);
        } catch (err) {
          reportError(err);
        }
        if (event._stop) break;
      }
      return !event.defaultPrevented;
    }
  }

  // ------------------------------------------------------------------ timers
  // mini-racer's own setTimeout never fires without a delay and throws for a delay of 0, so timers
  // are rebuilt on Atomics.waitAsync (the only clock V8 offers) with Node's 1 ms minimum.
  const timers = new Map();
  let nextTimerId = 1;

  function arm(id, delay) {
    const view = new Int32Array(new NativeSAB(4));
    waitAsync(view, 0, 0, delay).value.then(() => fire(id));
  }

  function fire(id) {
    const t = timers.get(id);
    if (t === undefined) return;
    if (t.repeat) arm(id, t.delay);
    else timers.delete(id);
    try {
      t.fn.apply(G, t.args);
    } catch (err) {
      reportError(err);
    }
  }

  function addTimer(fn, delay, args, repeat) {
    if (typeof fn !== "function") throw new TypeError("The callback must be a function");
    delay = Number(delay);
    if (!(delay >= 1 && delay <= 2147483647)) delay = 1;
    const id = nextTimerId++;
    if (!active) return id; // the invocation has answered: the timer would never be allowed to fire
    timers.set(id, { fn, args, repeat, delay });
    arm(id, delay);
    return id;
  }

  const setTimeout = (fn, delay, ...args) => addTimer(fn, delay, args, false);
  const setInterval = (fn, delay, ...args) => addTimer(fn, delay, args, true);
  const clearTimeout = (id) => void timers.delete(Number(id));
  const queueMicrotask = (fn) => {
    if (typeof fn !== "function") throw new TypeError("The callback must be a function");
    Promise.resolve().then(() => fn()).catch(reportError);
  };

  // ------------------------------------------------------------------ console
  function inspect(value, depth = 2, seen = new Set(), nested = false) {
    switch (typeof value) {
      case "string":
        return nested ? JSON.stringify(value).replace(/^"|"$/g, "'") : value;
      case "number":
        return O.is(value, -0) ? "-0" : String(value);
      case "bigint":
        return value + "n";
      case "undefined":
      case "boolean":
        return String(value);
      case "symbol":
        return value.toString();
      case "function":
        return `[Function: ${value.name || "(anonymous)"}]`;
    }
    if (value === null) return "null";
    if (value instanceof Error) return formatThrown(value);
    if (value instanceof Date) return isNaN(value) ? "Invalid Date" : value.toISOString();
    if (value instanceof RegExp) return String(value);
    if (seen.has(value)) return "[Circular]";
    if (value instanceof Resp) return `${value.constructor.name} ${inspect(value._state(), depth, seen, true)}`;
    const name = value.constructor && value.constructor.name;
    if (depth < 0) return Array.isArray(value) ? "[Array]" : `[${name || "Object"}]`;
    seen.add(value);
    try {
      const item = (v) => inspect(v, depth - 1, seen, true);
      if (Array.isArray(value)) {
        const parts = value.slice(0, 100).map(item);
        if (value.length > 100) parts.push(`... ${value.length - 100} more items`);
        return parts.length ? `[ ${parts.join(", ")} ]` : "[]";
      }
      if (ArrayBuffer.isView(value)) return `${name}(${value.length}) [ ${Array.from(value.slice(0, 50)).join(", ")} ]`;
      if (value instanceof Map) {
        return `Map(${value.size}) { ${[...value].map(([k, v]) => `${item(k)} => ${item(v)}`).join(", ")} }`;
      }
      if (value instanceof Set) return `Set(${value.size}) { ${[...value].map(item).join(", ")} }`;
      const keys = O.keys(value);
      const parts = keys.map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${item(value[k])}`);
      const prefix = name && name !== "Object" ? name + " " : "";
      return parts.length ? `${prefix}{ ${parts.join(", ")} }` : `${prefix}{}`;
    } finally {
      seen.delete(value);
    }
  }

  function format(args) {
    let rest = args;
    let head = "";
    if (typeof args[0] === "string" && args[0].includes("%")) {
      let i = 1;
      head = args[0].replace(/%([sdifjoOc%])/g, (m, f) => {
        if (f === "%") return "%";
        if (i >= args.length) return m;
        const a = args[i++];
        switch (f) {
          case "s":
            return typeof a === "string" ? a : inspect(a, 1);
          case "d":
          case "i":
            return typeof a === "object" ? "NaN" : String(f === "i" ? parseInt(a, 10) : Number(a));
          case "f":
            return String(parseFloat(a));
          case "j":
            try {
              return JSON.stringify(a);
            } catch {
              return "[Circular]";
            }
          case "c":
            return "";
          default:
            return inspect(a, 4);
        }
      });
      rest = args.slice(i);
      return [head, ...rest.map((a) => inspect(a))].join(" ");
    }
    return rest.map((a) => inspect(a)).join(" ");
  }

  // The same rules as the Python runtime's console: one entry per line, long lines cut, a cap on
  // lines and on size; what goes over is only counted.
  function emit(prefix, args) {
    if (!active) return;
    if (logCount >= limits.lines || logSize >= limits.bytes) {
      logDropped++;
      return;
    }
    const wasEmpty = logs.length === 0;
    let text;
    try {
      text = prefix + format(args);
    } catch (err) {
      text = prefix + "[unprintable value: " + String(err && err.message) + "]";
    }
    for (let line of text.split("\n")) {
      if (line.length > MAX_LINE_CHARS) line = line.slice(0, MAX_LINE_CHARS) + `... [line cut at ${MAX_LINE_CHARS} characters]`;
      if (logCount >= limits.lines || logSize + line.length > limits.bytes) {
        logDropped++;
        continue;
      }
      logCount++;
      logSize += line.length + 1;
      logs.push(line);
    }
    if (wasEmpty && logs.length > 0 && outbox.length === 0) bell();
  }

  const counters = new Map();
  const started = new Map();
  const console = {
    log: (...a) => emit("", a),
    info: (...a) => emit("", a),
    debug: (...a) => emit("", a),
    warn: (...a) => emit("[warn] ", a),
    error: (...a) => emit("[error] ", a),
    trace: (...a) => emit("", [...a, "\n" + userFrames(new Error().stack).join("\n")]),
    dir: (v) => emit("", [v]),
    table: (v) => emit("", [v]),
    assert: (cond, ...a) => {
      if (!cond) emit("[error] ", ["Assertion failed" + (a.length ? ":" : ""), ...a]);
    },
    count: (label = "default") => {
      counters.set(label, (counters.get(label) || 0) + 1);
      emit("", [`${label}: ${counters.get(label)}`]);
    },
    countReset: (label = "default") => void counters.delete(label),
    time: (label = "default") => void started.set(label, Date.now()),
    timeLog: (label = "default", ...a) => emit("", [`${label}: ${Date.now() - (started.get(label) ?? Date.now())}ms`, ...a]),
    timeEnd: (label = "default") => {
      emit("", [`${label}: ${Date.now() - (started.get(label) ?? Date.now())}ms`]);
      started.delete(label);
    },
    group: (...a) => (a.length ? emit("", a) : undefined),
    groupEnd: () => {},
  };

  function reportError(err) {
    emit("[error] ", ["Uncaught " + formatThrown(err)]);
  }

  // ------------------------------------------------------------------ errors and stacks
  function userFrames(stack) {
    const marker = filename + ":";
    const out = [];
    for (const raw of String(stack || "").split("\n")) {
      const line = raw.trim();
      if (!line.startsWith("at ") || !line.includes(marker)) continue;
      // The host's own call at the very start of the script; user code begins after the wrapper.
      if (line.endsWith(marker + "1:1") || line.endsWith(marker + "1:1)")) continue;
      // Columns are those of the transpiled code; only line numbers match the source.
      // `exports.default` is the name V8 infers from the transpiled export; the source says default.
      const shown = line.replace(new RegExp(escapeRe(marker) + "(\\d+):\\d+", "g"), marker + "$1");
      out.push("    " + shown.replace(/^at (async )?exports\.default /, "at $1default "));
    }
    return out;
  }
  const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  function formatThrown(err) {
    if (err instanceof Error || (err !== null && typeof err === "object" && typeof err.stack === "string")) {
      let head = String(err.name || "Error");
      const message = err.message === undefined ? "" : String(err.message);
      if (message) head += ": " + message;
      return [head, ...userFrames(err.stack)].join("\n");
    }
    return inspect(err, 2, new Set(), true);
  }

  // ------------------------------------------------------------------ binary data budget
  // Typed arrays and ArrayBuffers live outside the V8 heap, so the isolate's hard memory limit
  // does not see them. Every constructor that allocates one is wrapped to charge a per-invocation
  // budget of live bytes. When it runs out, a full GC (the host starts V8 with --expose-gc; the
  // global is blanked below) and a recount over weak references give back what is garbage. (Buffers
  // made in the current job stay alive until it ends: V8 keeps WeakRef targets for the job.)
  const collect = typeof G.gc === "function" ? G.gc : null;
  if (collect !== null) G.gc = undefined; // V8 makes it non-configurable, but writable
  let extUsed = 0;
  let extLive = [];
  let extPruneAt = 1024;
  function recount() {
    extLive = extLive.filter((e) => e.ref.deref() !== undefined);
    extUsed = extLive.reduce((sum, e) => sum + e.bytes, 0);
    extPruneAt = Math.max(1024, 2 * extLive.length); // so many small buffers do not pile up entries
  }
  function charge(bytes) {
    if (!(bytes > 64) || extUsed + bytes <= limits.extBytes) return;
    if (collect !== null) {
      collect();
      recount();
      if (extUsed + bytes <= limits.extBytes) return;
    }
    post({ k: "oom", what: "binary data" });
    throw new RangeError(`binary data would exceed the function's memory limit (${Math.round(limits.extBytes / 1048576)} MB)`);
  }
  function charged(buffer, bytes) {
    if (bytes > 64) {
      extUsed += bytes;
      extLive.push({ ref: new WeakRef(buffer), bytes });
      if (extLive.length > extPruneAt) recount();
    }
  }
  function wrapAllocator(Native, sizeOf) {
    const Wrapped = new Proxy(Native, {
      construct(target, args, newTarget) {
        const bytes = sizeOf(args);
        charge(bytes);
        const obj = Reflect.construct(target, args, newTarget === Wrapped ? target : newTarget);
        const buffer = obj instanceof target && ArrayBuffer.isView(obj) ? obj.buffer : obj;
        charged(buffer, ArrayBuffer.isView(obj) ? obj.byteLength : bytes);
        return obj;
      },
    });
    define(Native.prototype, "constructor", Wrapped);
    return Wrapped;
  }
  const isBuffer = (x) => x instanceof ArrayBuffer || (NativeSAB !== undefined && x instanceof NativeSAB);
  const bufferBytes = ([len, opts]) => Math.max(Number(len) || 0, Number(opts && opts.maxByteLength) || 0);
  G.ArrayBuffer = wrapAllocator(ArrayBuffer, bufferBytes);
  if (NativeSAB !== undefined) G.SharedArrayBuffer = wrapAllocator(NativeSAB, bufferBytes);
  for (const name of ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
    "Uint32Array", "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"]) {
    const Native = G[name];
    if (typeof Native !== "function") continue;
    G[name] = wrapAllocator(Native, ([arg]) => {
      if (typeof arg !== "object" || arg === null) return (Number(arg) || 0) * Native.BYTES_PER_ELEMENT;
      if (isBuffer(arg)) return 0; // a view on an existing buffer allocates nothing
      return (Number(arg.length) || 0) * Native.BYTES_PER_ELEMENT;
    });
  }
  // Methods that make a new buffer without going through a constructor.
  function wrapMaker(obj, method, sizeOf) {
    const native = obj[method];
    if (typeof native !== "function") return;
    define(obj, method, {
      [method](...args) {
        charge(sizeOf(this, args));
        const out = native.apply(this, args);
        charged(ArrayBuffer.isView(out) ? out.buffer : out, out.byteLength);
        return out;
      },
    }[method]);
  }
  const ownSize = (self) => self.byteLength;
  wrapMaker(ArrayBuffer.prototype, "transfer", (self, [n]) => (n === undefined ? self.byteLength : Number(n) || 0));
  wrapMaker(ArrayBuffer.prototype, "transferToFixedLength", (self, [n]) => (n === undefined ? self.byteLength : Number(n) || 0));
  const TypedArrayProto = O.getPrototypeOf(NativeU8.prototype);
  for (const method of ["toReversed", "toSorted", "with"]) wrapMaker(TypedArrayProto, method, ownSize);
  wrapMaker(NativeU8, "fromBase64", (self, [text]) => Math.ceil((String(text).length * 3) / 4));
  wrapMaker(NativeU8, "fromHex", (self, [text]) => Math.ceil(String(text).length / 2));

  // ------------------------------------------------------------------ lazy Web API polyfills
  // Evaluating them costs milliseconds, so each is installed the first time a global is read.
  function lazy(names, factory) {
    let installed = null;
    const install = () => {
      if (installed === null) {
        // While the factory runs the names read as undefined (a polyfill may probe for itself).
        for (const n of names) define(G, n, undefined);
        installed = factory();
        for (const n of names) define(G, n, installed[n]);
      }
      return installed;
    };
    for (const n of names) {
      O.defineProperty(G, n, {
        configurable: true,
        enumerable: false,
        get: () => install()[n],
        set: (v) => define(G, n, v),
      });
    }
    return install;
  }
  const encoding = lazy(["TextEncoder", "TextDecoder"], () => vendor("encoding"));
  lazy(["URL", "URLSearchParams"], () => vendor("url"));
  lazy(["structuredClone"], () => vendor("structuredClone"));

  // ------------------------------------------------------------------ bytes, base64, UTF-8
  // V8 has base64 built in (Uint8Array.fromBase64 / toBase64), so atob/btoa are thin glue over it,
  // and the host channel's own UTF-8 uses native URI coding: no polyfill to load on every fetch.
  const binary = (bytes) => {
    let out = "";
    for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return out;
  };
  const fromBinary = (text) => {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  };
  const bytesToB64 = (bytes) => bytes.toBase64();
  function b64ToBytes(b64) {
    const bytes = nativeFromBase64.call(NativeU8, b64 || "");
    charge(bytes.byteLength);
    charged(bytes.buffer, bytes.byteLength);
    return bytes;
  }
  function btoa(data) {
    data = String(data);
    for (let i = 0; i < data.length; i++) {
      if (data.charCodeAt(i) > 255) {
        throw new DOMException("btoa: the string contains characters outside of the Latin1 range", "InvalidCharacterError");
      }
    }
    return fromBinary(data).toBase64();
  }
  function atob(data) {
    // The HTML spec's forgiving-base64 decode.
    let text = String(data).replace(/[\t\n\f\r ]/g, "");
    if (text.length % 4 === 0) text = text.replace(/==?$/, "");
    if (text.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(text)) {
      throw new DOMException("atob: the string to be decoded is not correctly encoded", "InvalidCharacterError");
    }
    return binary(nativeFromBase64.call(NativeU8, text, { lastChunkHandling: "loose" }));
  }
  const utf8 = (text) => fromBinary(unescape(encodeURIComponent(String(text).toWellFormed())));
  function fromUtf8(bytes) {
    let text;
    try {
      text = decodeURIComponent(escape(binary(bytes)));
    } catch {
      return new (encoding().TextDecoder)().decode(bytes); // malformed UTF-8: U+FFFD as the spec says
    }
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  function toBytes(data, what) {
    if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    throw new TypeError(`${what} must be an ArrayBuffer or a typed array (BufferSource)`);
  }

  // ------------------------------------------------------------------ Headers
  const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  class Headers {
    #map = new Map(); // lower-case name -> [values]
    constructor(init) {
      if (init == null) return;
      if (init instanceof Headers) {
        for (const [k, v] of init.#map) this.#map.set(k, v.slice());
      } else if (typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const arr = Array.from(pair);
          if (arr.length !== 2) throw new TypeError("Headers: each header pair must be [name, value]");
          this.append(arr[0], arr[1]);
        }
      } else if (typeof init === "object") {
        for (const k of O.keys(init)) this.append(k, init[k]);
      } else {
        throw new TypeError("Headers: init must be an object, an array of pairs or Headers");
      }
    }
    static #name(name) {
      name = String(name);
      if (!HEADER_NAME.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
      return name.toLowerCase();
    }
    static #value(value) {
      value = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
      if (/[\0\r\n]/.test(value)) throw new TypeError("Invalid header value");
      return value;
    }
    append(name, value) {
      const k = Headers.#name(name);
      const v = Headers.#value(value);
      const list = this.#map.get(k);
      if (list) list.push(v);
      else this.#map.set(k, [v]);
    }
    set(name, value) {
      this.#map.set(Headers.#name(name), [Headers.#value(value)]);
    }
    get(name) {
      const list = this.#map.get(Headers.#name(name));
      return list === undefined ? null : list.join(", ");
    }
    getSetCookie() {
      return (this.#map.get("set-cookie") || []).slice();
    }
    has(name) {
      return this.#map.has(Headers.#name(name));
    }
    delete(name) {
      this.#map.delete(Headers.#name(name));
    }
    forEach(callback, thisArg) {
      for (const [k, v] of this) callback.call(thisArg, v, k, this);
    }
    *entries() {
      for (const k of [...this.#map.keys()].sort()) {
        if (k === "set-cookie") for (const v of this.#map.get(k)) yield [k, v];
        else yield [k, this.#map.get(k).join(", ")];
      }
    }
    *keys() {
      for (const [k] of this.entries()) yield k;
    }
    *values() {
      for (const [, v] of this.entries()) yield v;
    }
    [Symbol.iterator]() {
      return this.entries();
    }
    get [Symbol.toStringTag]() {
      return "Headers";
    }
    toJSON() {
      return O.fromEntries(this.entries());
    }
  }

  // ------------------------------------------------------------------ AbortController / AbortSignal
  class AbortSignal extends EventTarget {
    #aborted = false;
    #reason = undefined;
    constructor(token) {
      if (token !== CREATE) throw new TypeError("Illegal constructor");
      super();
      this.onabort = null;
      define(this, "_deadline", null); // ms epoch when a timeout() signal fires (for fetch)
    }
    get aborted() {
      return this.#aborted;
    }
    get reason() {
      return this.#reason;
    }
    throwIfAborted() {
      if (this.#aborted) throw this.#reason;
    }
    _abort(reason) {
      if (this.#aborted) return;
      this.#aborted = true;
      this.#reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
      this.dispatchEvent(new Event("abort"));
    }
    static abort(reason) {
      const s = new AbortSignal(CREATE);
      s._abort(reason);
      return s;
    }
    static timeout(ms) {
      ms = Number(ms);
      if (!(ms >= 0)) throw new TypeError("AbortSignal.timeout: milliseconds must be a non-negative number");
      const s = new AbortSignal(CREATE);
      s._deadline = Date.now() + ms;
      setTimeout(() => s._abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")), ms);
      return s;
    }
    static any(signals) {
      const s = new AbortSignal(CREATE);
      for (const src of signals) {
        if (src.aborted) {
          s._abort(src.reason);
          return s;
        }
      }
      for (const src of signals) {
        if (src._deadline !== null && (s._deadline === null || src._deadline < s._deadline)) s._deadline = src._deadline;
        src.addEventListener("abort", () => s._abort(src.reason), { once: true });
      }
      return s;
    }
    get [Symbol.toStringTag]() {
      return "AbortSignal";
    }
  }
  const CREATE = Symbol("create");

  class AbortController {
    #signal = new AbortSignal(CREATE);
    get signal() {
      return this.#signal;
    }
    abort(reason) {
      this.#signal._abort(reason);
    }
  }

  // ------------------------------------------------------------------ Response and fetch
  const STATUS_TEXT = { 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently",
    302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    408: "Request Timeout", 409: "Conflict", 410: "Gone", 413: "Content Too Large", 415: "Unsupported Media Type",
    422: "Unprocessable Content", 429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" };

  function bodyToBytes(body, headers) {
    if (body == null) return null;
    if (typeof body === "string") {
      if (!headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
      return utf8(body);
    }
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return toBytes(body, "body");
    // (checked by tag, so that a string body does not load the URL polyfill)
    if (O.prototype.toString.call(body) === "[object URLSearchParams]") {
      if (!headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded;charset=UTF-8");
      return utf8(body.toString());
    }
    // What the Fetch Standard does with any other object: it sends its string form.
    if (!headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
    return utf8(String(body));
  }

  const FROM_WIRE = Symbol("wire");
  class Response {
    #bytes;
    #used = false;
    constructor(body = null, init = {}) {
      if (body === FROM_WIRE) {
        // (private fields exist only on objects the constructor made, so the host's and clone()'s
        // responses come through here too)
        O.assign(this, init.fields);
        this.#bytes = init.bytes;
        return;
      }
      const status = init.status === undefined ? 200 : Number(init.status);
      if (!Number.isInteger(status) || status < 200 || status > 599) {
        throw new RangeError(`Response: status must be an integer from 200 to 599, got ${init.status}`);
      }
      this.headers = new Headers(init.headers);
      this.#bytes = bodyToBytes(body, this.headers) || new Uint8Array(0);
      this.status = status;
      this.statusText = init.statusText === undefined ? STATUS_TEXT[status] || "" : String(init.statusText);
      this.ok = status >= 200 && status < 300;
      this.url = "";
      this.redirected = false;
      this.type = "default";
    }
    static _fromWire(wire, url) {
      const status = Number(wire.status);
      const finalUrl = String(wire.url || url);
      return new Response(FROM_WIRE, {
        bytes: b64ToBytes(wire.body_b64),
        fields: { headers: new Headers(wire.headers || []), status, statusText: STATUS_TEXT[status] || "",
          ok: status >= 200 && status < 300, url: finalUrl, redirected: finalUrl !== url, type: "basic" },
      });
    }
    static json(data, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(JSON.stringify(data), O.assign({}, init, { headers }));
    }
    static error() {
      const r = new Response(null, { status: 200 });
      r.status = 0;
      r.ok = false;
      r.type = "error";
      return r;
    }
    get bodyUsed() {
      return this.#used;
    }
    get body() {
      return null; // no ReadableStream in this runtime: use text(), json() or arrayBuffer()
    }
    #consume() {
      if (this.#used) return Promise.reject(new TypeError("Body is unusable: Body has already been read"));
      this.#used = true;
      return Promise.resolve(this.#bytes);
    }
    async arrayBuffer() {
      const b = await this.#consume();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    }
    async bytes() {
      return new Uint8Array(await this.arrayBuffer());
    }
    async text() {
      return fromUtf8(await this.#consume());
    }
    async json() {
      const text = await this.text();
      try {
        return JSON.parse(text);
      } catch (err) {
        throw new SyntaxError(`Response body from ${this.url || "fetch"} is not valid JSON: ${err.message}`);
      }
    }
    clone() {
      if (this.#used) throw new TypeError("Response.clone: Body has already been consumed");
      return new Response(FROM_WIRE, { bytes: this.#bytes.slice(), fields: O.assign({}, this, { headers: new Headers(this.headers) }) });
    }
    get [Symbol.toStringTag]() {
      return "Response";
    }
  }

  const FETCH_ERRORS = {
    egress_denied: (m) => new TypeError(`fetch failed: ${m}`),
    too_large: (m) => new TypeError(`fetch failed: ${m}`),
    timeout: (m) => new DOMException(m, "TimeoutError"),
  };
  let fetchCount = 0;

  function fetch(input, init) {
    init = init ?? {};
    return new Promise((resolve, reject) => {
      const url = typeof input === "string" ? input
        : input !== null && typeof input === "object" && typeof input.url === "string" ? input.url : String(input);
      if (!/^https?:\/\//i.test(url)) throw new TypeError(`fetch: only absolute http(s) URLs can be fetched, got ${JSON.stringify(url)}`);
      const method = String(init.method || "GET").toUpperCase();
      const headers = new Headers(init.headers);
      if ((method === "GET" || method === "HEAD") && init.body != null) {
        throw new TypeError("fetch: a GET or HEAD request cannot have a body");
      }
      const bytes = bodyToBytes(init.body, headers);
      if (bytes !== null && bytes.length > limits.bodyBytes) {
        throw new TypeError(`fetch: request body over ${limits.bodyBytes} bytes`);
      }
      if (++fetchCount > limits.fetches) throw new TypeError(`fetch: over ${limits.fetches} calls in one invocation`);
      const signal = init.signal;
      if (signal && signal.aborted) throw signal.reason;
      const deadline = signal ? signal._deadline : null;
      const req = {
        url,
        method,
        headers: O.fromEntries(headers.entries()),
        body_b64: bytes === null ? null : bytesToB64(bytes),
        timeout: deadline === null || deadline === undefined ? null : Math.max(0.001, (deadline - Date.now()) / 1000),
      };
      const call = hostCall("fetch", { req });
      let onAbort = null;
      let timedOut = false;
      if (signal) {
        const cancel = () => {
          if (!pending.delete(call.id)) return;
          post({ k: "cancel", id: call.id });
          reject(signal.reason);
        };
        onAbort = () => {
          const reason = signal.reason;
          if (req.timeout !== null && reason instanceof DOMException && reason.name === "TimeoutError") {
            // The host was given the same deadline and times the request out itself, so its call
            // record says "timeout" as a Python function's would: wait (briefly) for that answer.
            timedOut = true;
            setTimeout(cancel, 250);
            return;
          }
          cancel();
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      call.promise.then(
        (wire) => {
          if (onAbort) signal.removeEventListener("abort", onAbort);
          if (timedOut) {
            reject(signal.reason);
            return;
          }
          try {
            resolve(Response._fromWire(wire, url));
          } catch (err) {
            reject(err);
          }
        },
        (error) => {
          if (onAbort) signal.removeEventListener("abort", onAbort);
          if (timedOut) {
            reject(signal.reason);
            return;
          }
          const make = FETCH_ERRORS[error && error.kind] || ((m) => new TypeError(`fetch failed: ${m}`));
          const err = make(String((error && error.message) || "network error"));
          err.cause = error && error.kind;
          reject(err);
        },
      );
    });
  }

  // ------------------------------------------------------------------ Web Crypto
  // ChaCha20 (RFC 8439) keystream as the CSPRNG behind getRandomValues: host callbacks are async
  // only, so the host hands over a fresh 256-bit key with every context instead.
  function chacha20Block(key, counter, nonce) {
    const s = new Uint32Array(16);
    s[0] = 0x61707865; s[1] = 0x3320646e; s[2] = 0x79622d32; s[3] = 0x6b206574;
    for (let i = 0; i < 8; i++) s[4 + i] = key[i];
    s[12] = counter; s[13] = nonce[0]; s[14] = nonce[1]; s[15] = nonce[2];
    const x = s.slice();
    const rotl = (v, c) => (v << c) | (v >>> (32 - c));
    const qr = (a, b, c, d) => {
      x[a] = (x[a] + x[b]) | 0; x[d] = rotl(x[d] ^ x[a], 16);
      x[c] = (x[c] + x[d]) | 0; x[b] = rotl(x[b] ^ x[c], 12);
      x[a] = (x[a] + x[b]) | 0; x[d] = rotl(x[d] ^ x[a], 8);
      x[c] = (x[c] + x[d]) | 0; x[b] = rotl(x[b] ^ x[c], 7);
    };
    for (let i = 0; i < 10; i++) {
      qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
      qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
    }
    for (let i = 0; i < 16; i++) x[i] = (x[i] + s[i]) | 0;
    return new Uint8Array(x.buffer); // little-endian words, as the RFC serialises them
  }
  const rng = { key: null, nonce: new Uint32Array(3), counter: 0, block: new Uint8Array(0), pos: 0 };
  function randomBytes(out) {
    if (rng.key === null) throw new DOMException("crypto is not seeded", "OperationError");
    for (let i = 0; i < out.length; i++) {
      if (rng.pos >= rng.block.length) {
        rng.block = chacha20Block(rng.key, rng.counter, rng.nonce);
        rng.counter = (rng.counter + 1) >>> 0;
        if (rng.counter === 0) rng.nonce[0]++;
        rng.pos = 0;
      }
      out[i] = rng.block[rng.pos++];
    }
    return out;
  }

  const INTEGER_ARRAYS = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
    "Uint32Array", "BigInt64Array", "BigUint64Array"];
  function getRandomValues(array) {
    const tag = ArrayBuffer.isView(array) ? O.prototype.toString.call(array).slice(8, -1) : "";
    if (!INTEGER_ARRAYS.includes(tag)) {
      throw new DOMException("getRandomValues: the argument must be an integer typed array", "TypeMismatchError");
    }
    if (array.byteLength > 65536) {
      throw new DOMException(`getRandomValues: ${array.byteLength} bytes requested, at most 65536`, "QuotaExceededError");
    }
    randomBytes(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    return array;
  }
  function randomUUID() {
    const b = randomBytes(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  const DIGESTS = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };
  const notSupported = (what) => Promise.reject(new DOMException(`${what} is not supported by this runtime (supported: digest with SHA-1/256/384/512, and HMAC importKey/sign/verify/exportKey)`, "NotSupportedError"));
  function hashName(alg) {
    const name = String(typeof alg === "object" && alg !== null ? alg.name : alg).toUpperCase();
    return O.keys(DIGESTS).includes(name) ? name : null;
  }
  async function hostBytes(op, args) {
    const b64 = await hostCall(op, args).promise.catch((e) => {
      throw new DOMException(String((e && e.message) || e), "OperationError");
    });
    return b64ToBytes(b64).buffer;
  }

  const keyBytes = new WeakMap();
  class CryptoKey {
    constructor(token) {
      if (token !== CREATE) throw new TypeError("Illegal constructor");
    }
    get [Symbol.toStringTag]() {
      return "CryptoKey";
    }
  }

  class SubtleCrypto {
    constructor(token) {
      if (token !== CREATE) throw new TypeError("Illegal constructor");
    }
    async digest(algorithm, data) {
      const name = hashName(algorithm);
      if (name === null) return notSupported(`digest algorithm ${JSON.stringify(algorithm && algorithm.name || algorithm)}`);
      return hostBytes("digest", { alg: DIGESTS[name], data_b64: bytesToB64(toBytes(data, "digest data")) });
    }
    async importKey(format, keyData, algorithm, extractable, usages) {
      const algName = String(typeof algorithm === "object" && algorithm !== null ? algorithm.name : algorithm).toUpperCase();
      if (algName !== "HMAC") return notSupported(`importKey for ${JSON.stringify(algName)}`);
      if (format !== "raw") return notSupported(`importKey format ${JSON.stringify(format)}`);
      const hash = hashName(algorithm.hash);
      if (hash === null) throw new TypeError("importKey: HMAC needs a hash: SHA-1, SHA-256, SHA-384 or SHA-512");
      const bytes = toBytes(keyData, "keyData");
      if (bytes.length === 0) throw new DOMException("importKey: the HMAC key is empty", "DataError");
      const bad = Array.from(usages || []).filter((u) => u !== "sign" && u !== "verify");
      if (bad.length) throw new SyntaxError(`importKey: usages ${bad.join(", ")} are not valid for HMAC`);
      const key = new CryptoKey(CREATE);
      O.defineProperties(key, {
        type: { value: "secret", enumerable: true },
        extractable: { value: !!extractable, enumerable: true },
        algorithm: { value: O.freeze({ name: "HMAC", hash: O.freeze({ name: hash }), length: bytes.length * 8 }), enumerable: true },
        usages: { value: O.freeze(Array.from(usages || [])), enumerable: true },
      });
      keyBytes.set(key, bytes);
      return key;
    }
    async exportKey(format, key) {
      if (format !== "raw") return notSupported(`exportKey format ${JSON.stringify(format)}`);
      if (!keyBytes.has(key)) throw new TypeError("exportKey: not a CryptoKey");
      if (!key.extractable) throw new DOMException("exportKey: the key is not extractable", "InvalidAccessError");
      return keyBytes.get(key).slice().buffer;
    }
    #hmacArgs(algorithm, key, usage, data) {
      const name = String(typeof algorithm === "object" && algorithm !== null ? algorithm.name : algorithm).toUpperCase();
      if (name !== "HMAC") return null;
      if (!keyBytes.has(key) || key.algorithm.name !== "HMAC") throw new DOMException("the key is not an HMAC key", "InvalidAccessError");
      if (!key.usages.includes(usage)) throw new DOMException(`the key may not be used to ${usage}`, "InvalidAccessError");
      return { alg: DIGESTS[key.algorithm.hash.name], key_b64: bytesToB64(keyBytes.get(key)), data_b64: bytesToB64(toBytes(data, "data")) };
    }
    async sign(algorithm, key, data) {
      const args = this.#hmacArgs(algorithm, key, "sign", data);
      if (args === null) return notSupported(`sign with ${JSON.stringify(algorithm && algorithm.name || algorithm)}`);
      return hostBytes("hmac", args);
    }
    async verify(algorithm, key, signature, data) {
      const args = this.#hmacArgs(algorithm, key, "verify", data);
      if (args === null) return notSupported(`verify with ${JSON.stringify(algorithm && algorithm.name || algorithm)}`);
      args.signature_b64 = bytesToB64(toBytes(signature, "signature"));
      return hostCall("hmac_verify", args).promise.catch((e) => {
        throw new DOMException(String((e && e.message) || e), "OperationError");
      });
    }
  }
  for (const m of ["encrypt", "decrypt", "generateKey", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"]) {
    define(SubtleCrypto.prototype, m, function () {
      return notSupported(`crypto.subtle.${m}`);
    });
  }
  class Crypto {
    constructor(token) {
      if (token !== CREATE) throw new TypeError("Illegal constructor");
      define(this, "subtle", new SubtleCrypto(CREATE));
    }
    getRandomValues(array) {
      return getRandomValues(array);
    }
    randomUUID() {
      return randomUUID();
    }
  }
  const crypto = new Crypto(CREATE);

  // ------------------------------------------------------------------ Resp, Shipment
  // Same rules and messages as appfn.sdk.response (the Python SDK); the host rebuilds the Python
  // builder from toJSON() and runs appfn.sdk.contract.normalize_response on it.
  const ShipmentStatusEnum = O.freeze({
    IN_PROGRESS: "in_progress", IN_TRANSIT: "in_transit", RECEIVED_AT_FINAL_HUB: "received_at_final_hub",
    TO_BE_REATTEMPTED: "to_be_reattempted", REATTEMPTED: "reattempted", UNABLE_TO_DELIVER: "unable_to_deliver",
    DELIVERING: "delivering", DELIVERED: "delivered", PARTIALLY_DELIVERED: "partially_delivered",
    SHIPPED: "shipped", CANCELLED: "cancelled", LOST: "lost", DAMAGED: "damaged",
    RETURN_TO_ORIGIN: "return_to_origin", RETURN_IN_PROGRESS: "return_in_progress",
  });

  const typeName = (v) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
  function httpStatus(status) {
    if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) {
      throw new RangeError(`status must be an HTTP status code between 100 and 599, got ${inspect(status, 0, new Set(), true)}`);
    }
    return status;
  }

  class Resp {
    #success;
    #data = {};
    #status;
    #message;
    #fields = null;
    constructor(success, message) {
      this.#success = !!success;
      this.#status = success ? 200 : 400;
      this.#message = message === undefined || message === null ? null : String(message);
    }
    static success() {
      return new this(true);
    }
    static error(message) {
      return new this(false, message);
    }
    setData(data) {
      if (typeof data !== "object" || data === null || Array.isArray(data)) {
        throw new TypeError(`setData expects an object, got ${typeName(data)}`);
      }
      this.#data = data;
      return this;
    }
    setStatus(status) {
      this.#status = httpStatus(status);
      return this;
    }
    setMessage(message) {
      this.#message = String(message);
      return this;
    }
    setFields(message, fields) {
      this.#message = String(message);
      const out = {};
      for (const k of O.keys(fields || {})) out[String(k)] = Array.from(fields[k], String);
      this.#fields = out;
      return this;
    }
    // Get Started shows Resp.error().setError({...}) once; take its message (and fields) if given.
    setError(error) {
      if (typeof error === "object" && error !== null) {
        if (error.fields) return this.setFields(error.message ?? this.#message ?? "", error.fields);
        if (error.message !== undefined) return this.setMessage(error.message);
      }
      return this.setMessage(error);
    }
    get isSuccess() {
      return this.#success;
    }
    _state() {
      return { success: this.#success, data: this.#data, status: this.#status, message: this.#message, fields: this.#fields };
    }
    toJSON() {
      const s = this._state();
      const body = { success: s.success, data: s.data, error: s.success ? null : s.message || "the function returned an error",
        status: s.status, message: s.message };
      if (s.fields !== null) body.fields = s.fields;
      return body;
    }
  }

  class Shipment extends Resp {
    #shipment = {};
    setShipmentNumber(number) {
      this.#shipment.shipment_number = String(number);
      return this;
    }
    setTrackingNumber(number) {
      this.#shipment.tracking_number = String(number);
      return this;
    }
    setTrackingLink(url) {
      this.#shipment.tracking_link = String(url);
      return this;
    }
    setPdfLabel(url) {
      this.#shipment.label = { format: "pdf", url: String(url) };
      return this;
    }
    setLabel(url) {
      return this.setPdfLabel(url); // one doc sample spells it so
    }
    setStatus(status) {
      if (typeof status === "number") {
        throw new TypeError("Shipment.setStatus takes a ShipmentStatusEnum value (e.g. ShipmentStatusEnum.SHIPPED); " +
          "use setHttpStatus for the HTTP-like status code");
      }
      const found = O.entries(ShipmentStatusEnum).find(([name, value]) => status === name || status === value);
      if (found === undefined) {
        throw new RangeError(`unknown shipment status ${inspect(status, 0, new Set(), true)}; expected one of ${O.keys(ShipmentStatusEnum).join(", ")}`);
      }
      this.#shipment.status = found[1];
      return this;
    }
    setHttpStatus(status) {
      return super.setStatus(status);
    }
    setStatusNote(note) {
      this.#shipment.status_note = String(note);
      return this;
    }
    setCost(amount) {
      if (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0) {
        throw new RangeError(`setCost expects a non-negative number (VAT included), got ${inspect(amount, 0, new Set(), true)}`);
      }
      this.#shipment.cost = amount;
      return this;
    }
    _state() {
      return O.assign(super._state(), { shipment: O.assign({}, this.#shipment) });
    }
    toJSON() {
      const s = this._state();
      if (s.success && !("shipment_number" in s.shipment)) {
        throw new TypeError("Shipment.success() needs setShipmentNumber(...) before it is returned");
      }
      const body = super.toJSON();
      body.data = O.assign({}, s.data, s.shipment);
      return body;
    }
  }

  // ------------------------------------------------------------------ require / import
  const UNSUPPORTED = ["child_process", "cluster", "dgram", "fs", "fs/promises", "http", "https", "http2", "net",
    "repl", "readline", "tls", "worker_threads", "zlib"];
  const cryptoModule = O.freeze({ webcrypto: crypto, subtle: crypto.subtle, getRandomValues, randomUUID });
  function require(name) {
    const bare = String(name).replace(/^node:/, "");
    if (bare === "crypto") return cryptoModule;
    if (UNSUPPORTED.includes(bare) || UNSUPPORTED.includes(bare.split("/")[0])) {
      throw new Error(`The Node module "${name}" is not available: App Functions run in a V8 isolate, not Node.js ` +
        `(not supported: ${UNSUPPORTED.join(", ")}). Use fetch() for HTTP and Web Crypto (globalThis.crypto) for crypto.`);
    }
    throw new Error(`Cannot import "${name}": App Functions cannot import modules or npm packages; ` +
      "use the platform globals (Resp, Shipment, ShipmentStatusEnum, fetch, crypto, URL, ...)");
  }

  // ------------------------------------------------------------------ running the handler
  function settle(value) {
    if (value instanceof Resp) {
      const state = value._state();
      return { t: "builder", builder: value instanceof Shipment ? "Shipment" : "Resp", state };
    }
    if (value === undefined || value === null) return { t: "none" };
    return { t: "value", value };
  }

  function finish(result) {
    let text;
    try {
      text = stringify(result);
    } catch (err) {
      text = stringify({ t: "unserialisable", message: String(err && err.message) });
    }
    if (text === undefined) text = stringify({ t: "none" });
    post({ k: "done", r: text });
    quiesce();
  }

  // Stop everything an invocation left behind: its timers never fire, its host calls never answer.
  function quiesce() {
    active = false;
    timers.clear();
    pending.clear();
    outbox = outbox.filter((m) => m.k !== "call"); // a call made but not yet taken is never made
  }

  // A new invocation in this context: fresh console counters, nothing left over from the last one.
  function begin(seedHex, optionsJson) {
    pullQueued = true;
    if (seedHex !== undefined) configure(seedHex, optionsJson);
    outbox = [];
    logs = [];
    logCount = 0;
    logSize = 0;
    logDropped = 0;
    counters.clear();
    started.clear();
    fetchCount = 0;
    active = true;
  }

  let handler = null;
  // Evaluate the module once; true when it exported a handler (else the `done` message says why).
  function load(moduleFn) {
    const module = { exports: {} };
    try {
      moduleFn.call(undefined, module.exports, require, module);
      const exp = module.exports;
      handler = exp && typeof exp.default === "function" ? exp.default : typeof exp === "function" ? exp : null;
      if (handler === null) {
        finish({ t: "load", error: "the source has no default export function; it must look like " +
          "`export default async (context) => { ... };`" });
        return false;
      }
    } catch (err) {
      finish({ t: "load", error: formatThrown(err) });
      return false;
    }
    return true;
  }

  function invoke(contextJson) {
    let promise;
    try {
      promise = Promise.resolve(handler(parse(contextJson)));
    } catch (err) {
      promise = Promise.reject(err);
    }
    promise.then(
      (value) => finish(settle(value)),
      (err) => finish({ t: "throw", error: formatThrown(err) }),
    );
  }

  // One invocation in a fresh context: load the module, then call its handler.
  function run(moduleFn, contextJson, seedHex, optionsJson) {
    begin(seedHex, optionsJson);
    if (load(moduleFn)) invoke(contextJson);
    return take();
  }

  // A reused context (the warm path): the module is loaded once, when the worker is bound; what
  // the module's top level started (timers, calls) is stopped then, as after every invocation.
  function loadOnly(moduleFn, seedHex, optionsJson) {
    begin(seedHex, optionsJson);
    if (load(moduleFn)) {
      post({ k: "loaded" });
      quiesce();
    }
    return take();
  }

  // A warm invocation. The seed and options are given only when they change: the CSPRNG keeps
  // its stream (seeded with host entropy per context), the limits stay those last given.
  function call(contextJson, seedHex, optionsJson) {
    begin(seedHex, optionsJson);
    if (handler === null) finish({ t: "load", error: "the module is not loaded" });
    else invoke(contextJson);
    return take();
  }

  // ------------------------------------------------------------------ globals
  const timeOrigin = Date.now();
  const performance = O.freeze({ timeOrigin, now: () => Date.now() - timeOrigin });

  const globals = {
    Resp, Shipment, ShipmentStatusEnum, console, fetch, Response, Headers, AbortController, AbortSignal,
    DOMException, Event, EventTarget, setTimeout, clearTimeout, setInterval, clearInterval: clearTimeout,
    queueMicrotask, crypto, Crypto, CryptoKey, SubtleCrypto, require, reportError, performance, atob, btoa,
  };
  for (const [name, value] of O.entries(globals)) define(G, name, value);
  define(G, "self", G);
  const fixed = (name, value) => O.defineProperty(G, name, { value, writable: false, configurable: false });
  // The host's pull: from now on posting to an empty outbox rings the bell again.
  fixed("__appfn_take", () => {
    pullQueued = false;
    return take();
  });
  fixed("__appfn_deliver", deliver);
  fixed("__appfn_run", run);
  fixed("__appfn_load", loadOnly);
  fixed("__appfn_call", call);
  // For the test suite only (RFC 8439 vectors); harmless to expose.
  define(G, "__appfn_chacha20_block", (key, counter, nonce) => chacha20Block(new Uint32Array(key), counter, new Uint32Array(nonce)));

  // 44 bytes of host entropy (hex): the ChaCha20 key and nonce; then the limits and file name.
  function configure(seedHex, optionsJson) {
    const seed = new Uint32Array(11);
    for (let i = 0; i < 11; i++) seed[i] = parseInt(seedHex.slice(i * 8, i * 8 + 8), 16) || 0;
    rng.key = seed.slice(0, 8);
    rng.nonce = seed.slice(8, 11);
    rng.counter = 0; // a reused context starts a new stream: nothing of the last key's block is used
    rng.block = new NativeU8(0);
    rng.pos = 0;
    const opts = parse(optionsJson);
    limits = O.assign(limits, opts.limits || {});
    if (opts.filename) filename = String(opts.filename);
  }

  return slot;
})(globalThis);
