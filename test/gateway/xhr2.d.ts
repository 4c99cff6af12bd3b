declare module 'xhr2' {
  /** XMLHttpRequest for Node (what dicomweb-client needs outside a browser). */
  const XMLHttpRequest: unknown;
  export default XMLHttpRequest;
}
