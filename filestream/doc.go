// Package filestream holds Kafka Connect's two example connectors, used to
// exercise the runtime end to end and in quickstarts:
//
//   - FileStreamSource (org.apache.kafka.connect.file.FileStreamSourceConnector):
//     reads lines of a file (keys file, topic, batch.size) and keeps following
//     it as it grows. Each record has a null key, a STRING value, source
//     partition {"filename": <file>} and source offset {"position": <byte
//     position after the line>}, as Connect writes them; a restart resumes at
//     the committed position. Lines end with \n, \r\n or \r; a last line
//     without an ending is not read until its ending arrives.
//   - FileStreamSink (org.apache.kafka.connect.file.FileStreamSinkConnector):
//     appends each record's value as a line to a file (keys file, topics).
//     Put writes its records to the file before returning (a reader tailing
//     it sees them at once); Flush fsyncs, so the runtime commits consumer
//     offsets only for lines on disk. At start, a partial last line (left by a crash in the
//     middle of a write, and never committed) is cut off, so the replay that
//     follows does not glue it to another line.
//
// Both run a single task. Without a file the source reads standard input
// and the sink writes standard output, as in Connect.
package filestream
