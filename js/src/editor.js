// The console's code editor: CodeMirror 6 behind a small global API (bundled by build.mjs into
// src/appfn/console/static/vendor/editor.js as an IIFE, global `appfnEditor`).
//
//   const ed = appfnEditor.create(element, { doc, language: "python" | "typescript" | "javascript",
//                                            readOnly: false, onChange: (text) => {} });
//   ed.getValue(); ed.setValue(text); ed.setLanguage("typescript");
//   ed.setErrors([{ line: 7, message: "SyntaxError: ..." }]);   // gutter marker + underline
//   ed.clearErrors(); ed.gotoLine(7); ed.focus(); ed.destroy();
//   const d = appfnEditor.diff(element, { a, b, language, aLabel, bLabel });  // side by side, read-only
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { Compartment, EditorState } from "@codemirror/state";
import { indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { javascript } from "@codemirror/lang-javascript";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { MergeView } from "@codemirror/merge";

function languageSupport(language) {
  switch (String(language || "python").toLowerCase()) {
    case "typescript": case "ts": return javascript({ typescript: true });
    case "javascript": case "js": return javascript();
    default: return python();
  }
}

const theme = EditorView.theme({
  "&": { fontSize: "13px", height: "100%", backgroundColor: "#fff" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", lineHeight: "1.5" },
  ".cm-gutters": { backgroundColor: "#f8f9fb", borderRight: "1px solid #e3e6eb", color: "#98a2b3" },
  ".cm-line.appfn-error-line": { backgroundColor: "#fdecea" },
});

// Lines with an error get a background too, so the line stands out even when scrolled sideways.
function diagnosticsFor(state, errors) {
  const out = [];
  for (const error of errors || []) {
    const number = Math.min(Math.max(1, Number(error.line) || 1), state.doc.lines);
    const line = state.doc.line(number);
    const indent = line.text.length - line.text.trimStart().length;
    const from = line.from + Math.min(indent, line.length);
    out.push({ from, to: Math.max(from, line.to), severity: error.severity || "error",
      message: String(error.message || "error"), source: error.source || undefined });
  }
  return out;
}

function create(element, options = {}) {
  const language = new Compartment();
  const editable = new Compartment();
  let onChange = options.onChange || null;
  const view = new EditorView({
    parent: element,
    state: EditorState.create({
      doc: options.doc || "",
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        language.of(languageSupport(options.language)),
        editable.of([EditorState.readOnly.of(!!options.readOnly), EditorView.editable.of(!options.readOnly)]),
        lintGutter(),
        theme,
        EditorView.updateListener.of((update) => {
          if (update.docChanged && onChange) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  const api = {
    view,
    getValue: () => view.state.doc.toString(),
    setValue(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: String(text ?? "") } });
    },
    setLanguage(name) { view.dispatch({ effects: language.reconfigure(languageSupport(name)) }); },
    setReadOnly(flag) {
      view.dispatch({ effects: editable.reconfigure([EditorState.readOnly.of(!!flag), EditorView.editable.of(!flag)]) });
    },
    setErrors(errors) {
      const diagnostics = diagnosticsFor(view.state, errors);
      view.dispatch(setDiagnostics(view.state, diagnostics));
      if (diagnostics.length) api.gotoLine(view.state.doc.lineAt(diagnostics[0].from).number);
      return diagnostics.length;
    },
    clearErrors() { view.dispatch(setDiagnostics(view.state, [])); },
    gotoLine(number) {
      const line = view.state.doc.line(Math.min(Math.max(1, number), view.state.doc.lines));
      view.dispatch({ selection: { anchor: line.from }, effects: EditorView.scrollIntoView(line.from, { y: "center" }) });
    },
    onChange(fn) { onChange = fn; },
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
  element.appfnEditor = api;
  return api;
}

function diff(element, options = {}) {
  const readOnly = [EditorState.readOnly.of(true), EditorView.editable.of(false)];
  const extensions = [basicSetup, languageSupport(options.language), theme, readOnly];
  const view = new MergeView({
    parent: element,
    a: { doc: options.a || "", extensions },
    b: { doc: options.b || "", extensions },
    highlightChanges: true,
    gutter: true,
    collapseUnchanged: { margin: 3, minSize: 6 },
  });
  return { view, destroy: () => view.destroy() };
}

export { create, diff };
