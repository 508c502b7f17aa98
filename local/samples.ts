import {
  sampleAlphaPng,
  sampleAnimated,
  sampleCmykJpeg,
  sampleTruncated,
  sampleHugeHeaderPng,
  samplePhoto,
  samplePhotoWithGps,
  sampleOriented,
  sampleRandomBytes,
  sampleWebp,
} from "./sampleImages";

/**
 * The sample set `npm start` runs when given no path: the core's generated images
 * (nothing read from disk), chosen so one run shows every outcome — renditions for
 * good images, a typed error for each kind of bad one.
 */

export interface SampleFile {
  /** Key in the uploads store, also the name shown in the table. */
  key: string;
  body: Buffer;
}

/** A photo-like JPEG, a PNG with alpha, a WebP, an animated GIF, EXIF oddities, a corrupt file, one over the pixel limit, one that is no image. */
export async function defaultSampleSet(): Promise<SampleFile[]> {
  const photo = await samplePhoto({ width: 2400, height: 1600, seed: 11 });
  const files: Array<Promise<SampleFile> | SampleFile> = [
    { key: "samples/photo-landscape.jpg", body: photo },
    samplePhoto({ width: 1200, height: 1800, seed: 12 }).then((body) => ({ key: "samples/photo-portrait.jpg", body })),
    sampleAlphaPng(800, 600).then((body) => ({ key: "samples/logo-alpha.png", body })),
    sampleWebp(1024, 768).then((body) => ({ key: "samples/photo.webp", body })),
    sampleAnimated("gif", 3, 240, 160).then((body) => ({ key: "samples/animated.gif", body })),
    samplePhotoWithGps(1280, 960).then((body) => ({ key: "samples/photo-with-gps.jpg", body })),
    sampleOriented(6).then((body) => ({ key: "samples/rotated-exif.jpg", body })),
    sampleCmykJpeg().then((body) => ({ key: "samples/print-cmyk.jpg", body })),
    { key: "samples/truncated.jpg", body: sampleTruncated(photo) },
    { key: "samples/huge-header.png", body: sampleHugeHeaderPng() },
    { key: "samples/not-an-image.jpg", body: sampleRandomBytes(2048) },
  ];
  return Promise.all(files);
}

/**
 * `count` small distinct photo-like JPEGs, for load tests and benchmarks.
 * @example await smallPhotos(200, 64, 48)
 */
export async function smallPhotos(count: number, width = 64, height = 48, prefix = "batch"): Promise<SampleFile[]> {
  const files: SampleFile[] = [];
  for (let i = 0; i < count; i++) {
    const body = await samplePhoto({ width, height, seed: 1000 + i, quality: 80 });
    files.push({ key: `${prefix}/photo-${String(i).padStart(4, "0")}.jpg`, body });
  }
  return files;
}
