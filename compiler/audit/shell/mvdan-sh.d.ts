// The slice of mvdan-sh (mvdan/sh's syntax package compiled to JavaScript) that the audit uses.
declare module 'mvdan-sh' {
  interface MvdanSyntax {
    NewParser(...opts: unknown[]): { Parse(src: string, name: string): unknown };
    Variant(v: unknown): unknown;
    LangBash: unknown;
    NodeType(node: unknown): string;
    Walk(node: unknown, f: (node: unknown) => boolean): void;
  }
  const sh: { syntax: MvdanSyntax };
  export default sh;
}
