// SmtDriver runs Kafka Connect's JsonConverter and one transformation (with
// an optional predicate) on test cases read from stdin, one JSON object a
// line, and prints one JSON object a line with the result. It is compiled
// and run by integration/smtdiff against the Kafka Connect 4.4.0 worker
// classpath and Debezium 3.6.1's plugin jars.
//
// Input line:
//   {"id": "...", "converter": {JsonConverter keys}, "topic": "t",
//    "key": "json text" | null, "value": "json text" | null,
//    "headers": [["k", "text"], ...], "timestamp": 1700000000000,
//    "transform": "class" | null, "config": {...},
//    "predicate": "class" | null, "predicateConfig": {...}, "negate": false}
// Output line:
//   {"id": "...", "kept": true, "topic": "t", "key": base64 | null,
//    "value": base64 | null, "headers": [["k", base64 | null], ...]}
// or {"id": "...", "stage": "config|decode|transform|encode",
//     "exception": "class", "error": "message"}.
// Headers are read and written with SimpleHeaderConverter, the worker's
// default header.converter.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;

public class SmtDriver {
    static final ObjectMapper M = new ObjectMapper();

    static class Failure extends Exception {
        final String stage;
        final Throwable cause;

        Failure(String stage, Throwable cause) {
            this.stage = stage;
            this.cause = cause;
        }
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode c = M.readTree(line);
            ObjectNode o = M.createObjectNode();
            o.put("id", c.path("id").asText());
            try {
                run(c, o);
            } catch (Failure f) {
                Throwable t = f.cause;
                o.removeAll();
                o.put("id", c.path("id").asText());
                o.put("stage", f.stage);
                o.put("exception", t.getClass().getName());
                o.put("error", String.valueOf(t.getMessage()));
            }
            out.println(M.writeValueAsString(o));
        }
    }

    static Map<String, Object> map(JsonNode n) {
        Map<String, Object> m = new HashMap<>();
        if (n == null || n.isNull() || n.isMissingNode()) {
            return m;
        }
        Iterator<Map.Entry<String, JsonNode>> it = n.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            m.put(e.getKey(), e.getValue().asText());
        }
        return m;
    }

    static byte[] bytes(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() ? null : n.asText().getBytes(StandardCharsets.UTF_8);
    }

    static String b64(byte[] b) {
        return b == null ? null : Base64.getEncoder().encodeToString(b);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static void run(JsonNode c, ObjectNode o) throws Failure {
        String topic = c.path("topic").asText("t");
        JsonConverter kc = new JsonConverter();
        JsonConverter vc = new JsonConverter();
        SimpleHeaderConverter hc = new SimpleHeaderConverter();
        Transformation<SinkRecord> tr = null;
        Predicate<SinkRecord> pr = null;
        try {
            kc.configure(map(c.get("converter")), true);
            vc.configure(map(c.get("converter")), false);
            hc.configure(new HashMap<>());
            if (c.hasNonNull("transform")) {
                tr = (Transformation<SinkRecord>) Class.forName(c.get("transform").asText()).getDeclaredConstructor().newInstance();
                tr.configure(map(c.get("config")));
            }
            if (c.hasNonNull("predicate")) {
                pr = (Predicate<SinkRecord>) Class.forName(c.get("predicate").asText()).getDeclaredConstructor().newInstance();
                pr.configure(map(c.get("predicateConfig")));
            }
        } catch (Throwable t) {
            throw new Failure("config", t instanceof java.lang.reflect.InvocationTargetException ? t.getCause() : t);
        }
        SinkRecord rec;
        try {
            SchemaAndValue k = kc.toConnectData(topic, bytes(c.get("key")));
            SchemaAndValue v = vc.toConnectData(topic, bytes(c.get("value")));
            ConnectHeaders hs = new ConnectHeaders();
            for (JsonNode h : c.path("headers")) {
                String hk = h.get(0).asText();
                hs.add(hk, hc.toConnectHeader(topic, hk, bytes(h.get(1))));
            }
            long ts = c.path("timestamp").asLong(1700000000000L);
            rec = new SinkRecord(topic, 0, k.schema(), k.value(), v.schema(), v.value(), 0L, ts, TimestampType.CREATE_TIME, hs);
        } catch (Throwable t) {
            throw new Failure("decode", t);
        }
        SinkRecord res = rec;
        try {
            if (tr != null && (pr == null || pr.test(rec) != c.path("negate").asBoolean(false))) {
                res = tr.apply(rec);
            }
        } catch (Throwable t) {
            throw new Failure("transform", t);
        }
        if (res == null) {
            o.put("kept", false);
            return;
        }
        try {
            o.put("kept", true);
            o.put("topic", res.topic());
            o.put("key", b64(kc.fromConnectData(res.topic(), res.keySchema(), res.key())));
            o.put("value", b64(vc.fromConnectData(res.topic(), res.valueSchema(), res.value())));
            ArrayNode ha = o.putArray("headers");
            for (Header h : res.headers()) {
                ArrayNode p = ha.addArray();
                p.add(h.key());
                p.add(b64(hc.fromConnectHeader(res.topic(), h.key(), h.schema(), h.value())));
            }
        } catch (Throwable t) {
            throw new Failure("encode", t);
        }
    }
}
