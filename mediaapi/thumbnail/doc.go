// Package thumbnail reads image headers safely and makes thumbnails
// (crop or scale, animated GIFs kept animated, JPEG EXIF orientation
// applied) from JPEG, PNG, GIF and WebP, with the standard library and
// golang.org/x/image only.
//
// Decoding is the dangerous part: a small file can declare a huge image
// (a decompression bomb). Every decode is preceded by Probe, which reads
// only the header and refuses more pixels than the caller allows.
package thumbnail
