/** Real media for tests of C2PA signing in any workspace: a PNG made with Node and a small MP4 made with ffmpeg. */
export { fixtureMp4, makePng, mp4TopLevelBoxes, pngChunkTypes } from "./media.js";
