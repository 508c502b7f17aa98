// CloudFront Function (viewer-request, runtime cloudfront-js-2.0): picks the best rendition format for the browser.
// Event shape: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html
// (headers are lowercase; a header is { value }; returning the request forwards it, to the cache first).
//
// Renditions live at `outputPrefix(sourceKey)/<name>.<ext>` (functions/steps/keys.ts), one object per format the
// pipeline writes (jpg, webp, avif). A request for `<...>/<name>.jpg` or `.jpeg` is rewritten to `.avif` when the
// browser lists image/avif, else `.webp` when it lists image/webp, else `.jpg`, and only to formats in FORMATS
// that the URL's `f` query parameter lists as stored for that rendition (`f=avif-webp`; the API writes it from the
// manifest, functions/steps/served.ts): Optimize leaves out a WebP/AVIF larger than its JPEG, and a rewrite to a file
// that is not there would answer 403. Without `f` the JPEG is served as asked.
// The rewrite happens before the cache lookup, so the cache key is the rewritten URI and Accept need not be in it.
// `work/` holds the pipeline's intermediates: never served.

// Replaced at deploy (components/aws/cdn.ts) by the formats the stack's `formats` config writes, best first.
var FORMATS = ["avif", "webp", "jpg"];

var JPEG_REQUEST = /^(\/.+\/[^/]+)\.(jpe?g)$/i;

/** Whether the Accept header lists `type` with a quality above 0 (wildcards do not promise a format). */
function accepts(accept, type) {
  var parts = accept.toLowerCase().split(",");
  for (var i = 0; i < parts.length; i++) {
    var params = parts[i].split(";");
    if (params[0].trim() !== type) continue;
    for (var j = 1; j < params.length; j++) {
      var param = params[j].trim();
      if (param.indexOf("q=") === 0 && !(parseFloat(param.slice(2)) > 0)) return false;
    }
    return true;
  }
  return false;
}

function handler(event) {
  var request = event.request;
  if (request.uri === "/work" || request.uri.indexOf("/work/") === 0) {
    return { statusCode: 404, statusDescription: "Not Found" };
  }
  var match = JPEG_REQUEST.exec(request.uri);
  if (!match) return request;
  var accept = request.headers.accept ? request.headers.accept.value : "";
  var listed = request.querystring && request.querystring.f ? request.querystring.f.value.toLowerCase().split("-") : [];
  var stored = function (format) {
    return FORMATS.indexOf(format) >= 0 && listed.indexOf(format) >= 0;
  };
  var chosen;
  if (stored("avif") && accepts(accept, "image/avif")) chosen = "avif";
  else if (stored("webp") && accepts(accept, "image/webp")) chosen = "webp";
  else if (FORMATS.indexOf("jpg") >= 0) chosen = "jpg";
  // Nothing the browser takes was written: leave the URI, so the origin answers 403/404 rather than a wrong format.
  if (chosen) request.uri = match[1] + "." + chosen;
  return request;
}
