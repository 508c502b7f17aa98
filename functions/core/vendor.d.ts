// libheif-js ships types for its inner build only; functions/core/heic.ts types the parts it uses.
declare module "libheif-js/wasm-bundle.js" {
  const libheif: unknown;
  export default libheif;
}
