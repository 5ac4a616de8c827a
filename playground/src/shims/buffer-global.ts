// Node's global Buffer, which the shared file reading uses, from the browser form of node:buffer.
export { Buffer } from "buffer";
