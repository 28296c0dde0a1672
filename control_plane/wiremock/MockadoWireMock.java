// mockado's WireMock launcher: stock WireMock 3 from wiremock-standalone on the class path,
// started by the JDK's source launcher (no build step):
//
//   java -cp wiremock-standalone.jar MockadoWireMock.java <standalone args> [--next-server <args>]...
//
// Each argument group is one WireMock server with the standalone runner's own options (port,
// root dir, journal, logging...), its own stubs and admin API. Two things differ from stock:
//
// 1. Several servers share one JVM, so shards on one machine share one JIT, heap and GC
//    instead of each warming up its own.
// 2. Stubs sit in an index. Stock WireMock evaluates every stub for every request (about
//    0.6 us each: 6 ms per request at 10,000 stubs). Here a stub whose URL matcher is `url` or
//    `urlPath` equality is filed under that value, so a request evaluates only the stubs filed
//    under its own URL or path, plus every stub matched by a pattern, in WireMock's own order
//    (priority, then newest first). The first match is the same stub WireMock would pick.
//
// Each server also counts the requests each stub answered (one counter increment per
// request; a removed stub's counter stays, through a reset too) and lists them at
// GET /__admin/mockado/hits as {"<stub id>": count}: the console's canary hits, and what the
// keeper adds to the served counts, without a request journal.
//
// And each server computes the MD5s SQS answers a send with over the request it answers
// (SqsDigests): the template helper {{mockadoSqsMd5 request.body '<json|form>' '<entry Id>'
// '<body|attributes>'}} and the request matcher "mockado-sqs-send", which a stub answering
// with them carries so that it matches only a send whose digests can be computed. Stock
// WireMock has neither: there such a stub never matches (a miss, never another message's MD5).
//
// And the request matcher "mockado-aws-chunked" (AwsChunkedUploads) matches an S3 upload
// sent aws-chunked on its payload, its framing undone (any chunk sizes, chunk signatures and
// trailers). Stock WireMock has none: there such a stub never matches (a miss).

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.admin.Router;
import com.github.tomakehurst.wiremock.common.FileSource;
import com.github.tomakehurst.wiremock.common.Json;
import com.github.tomakehurst.wiremock.common.Urls;
import com.github.tomakehurst.wiremock.extension.AdminApiExtension;
import com.github.tomakehurst.wiremock.extension.ExtensionDeclarations;
import com.github.tomakehurst.wiremock.extension.Parameters;
import com.github.tomakehurst.wiremock.extension.ServeEventListener;
import com.github.tomakehurst.wiremock.extension.TemplateHelperProviderExtension;
import com.github.tomakehurst.wiremock.extension.responsetemplating.RequestTemplateModel;
import com.github.tomakehurst.wiremock.http.Request;
import com.github.tomakehurst.wiremock.http.RequestMethod;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.matching.EqualToPattern;
import com.github.tomakehurst.wiremock.matching.MatchResult;
import com.github.tomakehurst.wiremock.matching.RequestMatcherExtension;
import com.github.tomakehurst.wiremock.matching.RequestPattern;
import com.github.tomakehurst.wiremock.matching.UrlPathPattern;
import com.github.tomakehurst.wiremock.matching.UrlPattern;
import com.github.tomakehurst.wiremock.standalone.CommandLineOptions;
import com.github.tomakehurst.wiremock.store.DefaultStores;
import com.github.tomakehurst.wiremock.store.InMemoryStubMappingStore;
import com.github.tomakehurst.wiremock.store.StubMappingStore;
import com.github.tomakehurst.wiremock.store.Stores;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import com.github.tomakehurst.wiremock.stubbing.SubEvent;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import wiremock.com.github.jknack.handlebars.Helper;

public final class MockadoWireMock {
  static final String NEXT_SERVER = "--next-server";

  public static void main(String[] args) {
    List<List<String>> groups = new ArrayList<>();
    groups.add(new ArrayList<>());
    for (String arg : args) {
      if (NEXT_SERVER.equals(arg)) {
        groups.add(new ArrayList<>());
      } else {
        groups.get(groups.size() - 1).add(arg);
      }
    }
    List<WireMockServer> started = new ArrayList<>();
    try {
      for (List<String> group : groups) {
        if (group.isEmpty()) {
          continue;
        }
        IndexedOptions options = new IndexedOptions(group.toArray(new String[0]));
        FileSource root = options.filesRoot();
        root.createIfNecessary();
        root.child("mappings").createIfNecessary();
        root.child("__files").createIfNecessary();
        WireMockServer server = new WireMockServer(options);
        server.start();
        started.add(server);
        System.out.println(
            "mockado-wiremock: serving port " + server.port() + " from " + root.getPath()
                + " (indexed stubs)");
      }
    } catch (RuntimeException e) {
      // One server that cannot start stops them all: a half-started shard set is worse.
      System.err.println("mockado-wiremock: cannot start: " + e.getMessage());
      started.forEach(WireMockServer::stop);
      System.exit(1);
    }
  }

  /** The standalone runner's options, with the indexed stub store and the hit counts. */
  static final class IndexedOptions extends CommandLineOptions {
    private final StubHits hits = new StubHits();
    private Stores stores;
    private ExtensionDeclarations extensions;

    IndexedOptions(String... args) {
      super(args);
    }

    @Override
    public synchronized Stores getStores() {
      if (stores == null) {
        stores = new IndexedStores(filesRoot());
      }
      return stores;
    }

    @Override
    public synchronized ExtensionDeclarations getDeclaredExtensions() {
      if (extensions == null) {
        extensions = super.getDeclaredExtensions();
        extensions.add(hits);
        extensions.add(new SqsDigests());
        extensions.add(new AwsChunkedUploads());
      }
      return extensions;
    }
  }

  /**
   * How many requests each stub answered. A removed stub's count stays (and goes on if the
   * stub comes back): the keeper adds what each count gained since its last read, so the
   * hits a stub took between that read and its removal are still counted. A reset (POST
   * /__admin/reset) removes every stub and keeps every count alike: the counts only grow
   * while the JVM runs, so the served counts lose none of the hits taken before the reset.
   * Only stubs that answered have a counter.
   */
  static final class StubHits implements ServeEventListener, AdminApiExtension {
    private final Map<UUID, LongAdder> counts = new ConcurrentHashMap<>();

    @Override
    public String getName() {
      return "mockado-stub-hits";
    }

    @Override
    public boolean applyGlobally() {
      return true;
    }

    @Override
    public void afterMatch(ServeEvent event, Parameters parameters) {
      StubMapping stub = event.getStubMapping();
      if (event.getWasMatched() && stub != null) {
        counts.computeIfAbsent(stub.getId(), id -> new LongAdder()).increment();
      }
    }

    @Override
    public void contributeAdminApiRoutes(Router router) {
      router.add(
          RequestMethod.GET,
          "/mockado/hits",
          (admin, event, pathParams) -> {
            Map<String, Long> out = new HashMap<>();
            counts.forEach((id, count) -> out.put(id.toString(), count.sum()));
            return ResponseDefinition.okForJson(out);
          });
    }
  }

  static final class IndexedStores extends DefaultStores {
    private final IndexedStubMappingStore stubs;

    IndexedStores(FileSource root) {
      super(root);
      stubs = new IndexedStubMappingStore();
    }

    @Override
    public StubMappingStore getStubStore() {
      return stubs;
    }
  }

  /** WireMock's in-memory store (which keeps serving the admin API) plus an index for matching. */
  static final class IndexedStubMappingStore extends InMemoryStubMappingStore {
    // WireMock's own order (SortedConcurrentMappingSet): priority, then newest first.
    static final Comparator<StubMapping> WIREMOCK_ORDER =
        (a, b) -> {
          int byPriority = a.comparePriorityWith(b);
          return byPriority != 0
              ? byPriority
              : Long.compare(b.getInsertionIndex(), a.getInsertionIndex());
        };
    private static final StubMapping[] NONE = new StubMapping[0];

    // Each bucket is an array in WireMock's order, replaced (never changed) by the
    // synchronized edits: a request reads its buckets without a lock or an iterator.
    private final Map<String, StubMapping[]> byUrl = new ConcurrentHashMap<>();
    private final Map<String, StubMapping[]> byPath = new ConcurrentHashMap<>();
    private volatile StubMapping[] byPattern = NONE;
    private final Map<UUID, StubMapping> filed = new ConcurrentHashMap<>();

    @Override
    public synchronized void add(StubMapping stub) {
      super.add(stub); // sets the insertion index the order needs
      file(stub);
    }

    @Override
    public synchronized void replace(StubMapping existing, StubMapping updated) {
      super.replace(existing, updated);
      unfile(existing.getId());
      if (super.get(updated.getId()).isPresent()) {
        file(updated);
      }
    }

    @Override
    public synchronized void remove(StubMapping stub) {
      super.remove(stub);
      unfile(stub.getId()); // its hit count stays: see StubHits
    }

    @Override
    public synchronized void clear() {
      super.clear(); // the hit counts stay: see StubHits
      byUrl.clear();
      byPath.clear();
      byPattern = NONE;
      filed.clear();
    }

    @Override
    public Stream<StubMapping> findAllMatchingRequest(
        Request request,
        Map<String, RequestMatcherExtension> customMatchers,
        Consumer<SubEvent> subEventConsumer) {
      String url = request.getUrl();
      StubMapping[] exact = NONE;
      StubMapping[] path = NONE;
      if (url != null) {
        exact = byUrl.getOrDefault(url, NONE);
        path = byPath.getOrDefault(Urls.getPath(url), NONE);
      }
      return StreamSupport.stream(
          new MatchingStubs(request, customMatchers, subEventConsumer, exact, path, byPattern),
          false);
    }

    private void file(StubMapping stub) {
      String value = exactUrlValue(stub);
      if (value == null) {
        byPattern = with(byPattern, stub);
      } else {
        index(stub).merge(value, new StubMapping[] {stub}, (bucket, one) -> with(bucket, stub));
      }
      filed.put(stub.getId(), stub);
    }

    private void unfile(UUID id) {
      StubMapping stub = filed.remove(id);
      if (stub == null) {
        return;
      }
      String value = exactUrlValue(stub);
      if (value == null) {
        byPattern = without(byPattern, id);
      } else {
        index(stub)
            .computeIfPresent(
                value,
                (k, bucket) -> {
                  StubMapping[] rest = without(bucket, id);
                  return rest.length == 0 ? null : rest;
                });
      }
    }

    private Map<String, StubMapping[]> index(StubMapping stub) {
      return stub.getRequest().getUrlMatcher().getClass() == UrlPathPattern.class ? byPath : byUrl;
    }

    private static StubMapping[] with(StubMapping[] bucket, StubMapping stub) {
      int at = Arrays.binarySearch(bucket, stub, WIREMOCK_ORDER);
      at = at < 0 ? -at - 1 : at;
      StubMapping[] out = new StubMapping[bucket.length + 1];
      System.arraycopy(bucket, 0, out, 0, at);
      out[at] = stub;
      System.arraycopy(bucket, at, out, at + 1, bucket.length - at);
      return out;
    }

    private static StubMapping[] without(StubMapping[] bucket, UUID id) {
      return Arrays.stream(bucket).filter(s -> !s.getId().equals(id)).toArray(StubMapping[]::new);
    }

    /**
     * The value a stub's `url` or `urlPath` equality matcher requires, or null where the URL
     * matcher is anything else (a regex, a path template, any URL, case-insensitive): those
     * stubs are evaluated for every request, as in stock WireMock.
     */
    static String exactUrlValue(StubMapping stub) {
      RequestPattern request = stub.getRequest();
      UrlPattern url = request == null ? null : request.getUrlMatcher();
      if (url == null || url.isRegex()) {
        return null;
      }
      if (url.getClass() != UrlPattern.class && url.getClass() != UrlPathPattern.class) {
        return null;
      }
      if (url.getPattern() == null || url.getPattern().getClass() != EqualToPattern.class) {
        return null;
      }
      EqualToPattern equalTo = (EqualToPattern) url.getPattern();
      if (Boolean.TRUE.equals(equalTo.getCaseInsensitive())) {
        return null;
      }
      return equalTo.getExpected();
    }
  }

  /**
   * The stubs matching a request, in WireMock's order: merges buckets that are each in that
   * order and evaluates each candidate as the stream asks for it (WireMock takes the first).
   * As StubMappingStore's default: every evaluated stub's sub-events, then the matches.
   */
  static final class MatchingStubs extends Spliterators.AbstractSpliterator<StubMapping> {
    private final Request request;
    private final Map<String, RequestMatcherExtension> customMatchers;
    private final Consumer<SubEvent> subEventConsumer;
    private final StubMapping[][] buckets;
    private final int[] next;

    MatchingStubs(
        Request request,
        Map<String, RequestMatcherExtension> customMatchers,
        Consumer<SubEvent> subEventConsumer,
        StubMapping[]... buckets) {
      super(Long.MAX_VALUE, Spliterator.ORDERED | Spliterator.NONNULL);
      this.request = request;
      this.customMatchers = customMatchers;
      this.subEventConsumer = subEventConsumer;
      this.buckets = buckets;
      this.next = new int[buckets.length];
    }

    @Override
    public boolean tryAdvance(Consumer<? super StubMapping> action) {
      for (StubMapping stub = nextCandidate(); stub != null; stub = nextCandidate()) {
        MatchResult result = stub.getRequest().match(request, customMatchers);
        result.getSubEvents().forEach(subEventConsumer);
        if (result.isExactMatch()) {
          action.accept(stub);
          return true;
        }
      }
      return false;
    }

    private StubMapping nextCandidate() {
      int first = -1;
      for (int i = 0; i < buckets.length; i++) {
        if (next[i] < buckets[i].length
            && (first < 0
                || IndexedStubMappingStore.WIREMOCK_ORDER.compare(
                        buckets[i][next[i]], buckets[first][next[first]])
                    < 0)) {
          first = i;
        }
      }
      return first < 0 ? null : buckets[first][next[first]++];
    }
  }

  /**
   * The MD5s SQS answers a send with (MD5OfMessageBody, MD5OfMessageAttributes), computed
   * over the message of the request being answered, as SQS and the AWS SDKs compute them:
   * the body's UTF-8 bytes; the attributes in name order, each its name, its data type and
   * its value (after 1 for a string, 2 for binary) after their lengths (4 bytes, big-endian).
   * A message is the JSON protocol's (SendMessage's document, or the SendMessageBatch entry
   * with the given Id) or the query protocol's (the form's fields, or those of the entry
   * SendMessageBatchRequestEntry.N whose Id is the given one).
   *
   * As a template helper it gives one MD5 as hex; as the request matcher "mockado-sqs-send"
   * (parameters: protocol; messages, the entry Ids whose body MD5 the answer gives, "" for
   * SendMessage; attributes, those whose attributes' MD5 it gives) it matches a send whose
   * every such MD5 can be computed, so the helper never fails on a request its stub took.
   *
   * A request's body is parsed once, whatever the number of MD5s and of stubs asking for
   * them (a 10-entry batch with attributes asks 40 times: 20 guard checks, 20 MD5s): the
   * parse and the MD5s are kept under the request's id until WireMock has answered it.
   */
  static final class SqsDigests extends RequestMatcherExtension
      implements TemplateHelperProviderExtension, ServeEventListener {
    static final String NAME = "mockado-sqs-send";
    static final String HELPER = "mockadoSqsMd5";
    // A safety bound: an entry is dropped when its request is answered, so only a request
    // WireMock never completed could stay behind.
    static final int MAX_REQUESTS_PARSED = 10_000;
    private final Map<String, ParsedSend> parsed = new ConcurrentHashMap<>();

    @Override
    public String getName() {
      return NAME;
    }

    @Override
    public boolean applyGlobally() {
      return true;
    }

    @Override
    public Map<String, Helper<?>> provideTemplateHelpers() {
      Helper<Object> helper =
          (context, options) -> {
            Object model = options.get("request");
            String id = model instanceof RequestTemplateModel
                ? ((RequestTemplateModel) model).getId()
                : null;
            String md5 =
                parsedFor(id, context == null ? null : context.toString())
                    .md5(options.param(0, ""), options.param(1, ""), options.param(2, ""));
            if (md5 == null) {
              throw new IllegalArgumentException(
                  HELPER + ": no " + options.param(2, "") + " MD5 for this request's message");
            }
            return md5;
          };
      return Map.of(HELPER, helper);
    }

    @Override
    public MatchResult match(Request request, Parameters parameters) {
      UUID id = request.getId();
      ParsedSend send = parsedFor(id == null ? null : id.toString(), request.getBodyAsString());
      String protocol = parameters.getString("protocol", "");
      for (String[] digest :
          new String[][] {{"messages", "body"}, {"attributes", "attributes"}}) {
        List<?> entries = parameters.getList(digest[0]);
        for (Object entry : entries == null ? List.of() : entries) {
          if (send.md5(protocol, String.valueOf(entry), digest[1]) == null) {
            return MatchResult.noMatch();
          }
        }
      }
      return MatchResult.exactMatch();
    }

    @Override
    public void afterComplete(ServeEvent event, Parameters parameters) {
      UUID id = event.getRequest() == null ? null : event.getRequest().getId();
      if (id != null) {
        parsed.remove(id.toString());
      }
    }

    /** The request's parse: the one kept for it when its body is the one parsed. */
    ParsedSend parsedFor(String id, String body) {
      if (id == null || body == null) {
        return new ParsedSend(body);
      }
      ParsedSend send = parsed.get(id);
      if (send == null) {
        if (parsed.size() >= MAX_REQUESTS_PARSED) {
          parsed.clear();
        }
        send = parsed.computeIfAbsent(id, k -> new ParsedSend(body));
      }
      // A template may pass another text than the body the matcher read: parse that alone.
      return send.body.equals(body) ? send : new ParsedSend(body);
    }

    /** One MD5 of a send's message ("body" or "attributes"), or null when there is none. */
    static String md5(String body, String protocol, String entry, String which) {
      return new ParsedSend(body).md5(protocol, entry, which);
    }
  }

  /** A request body as sends read it: each protocol's parse, message and MD5, done once. */
  static final class ParsedSend {
    private static final Optional<Object> UNREADABLE = Optional.empty();
    private static final String ENTRY = "SendMessageBatchRequestEntry.";
    private static final Pattern FORM_ATTRIBUTE =
        Pattern.compile(
            "MessageAttribute\\.([0-9]+)\\.(Name|Value\\.(?:DataType|StringValue|BinaryValue))");
    private static final Pattern FORM_ENTRY_ID =
        Pattern.compile(Pattern.quote(ENTRY) + "([0-9]+)\\.Id");
    final String body;
    private final Map<String, Optional<Object>> documents = new ConcurrentHashMap<>();
    private final Map<List<String>, Optional<Map<?, ?>>> messages = new ConcurrentHashMap<>();
    private final Map<List<String>, Optional<String>> md5s = new ConcurrentHashMap<>();

    ParsedSend(String body) {
      this.body = body;
    }

    /** One MD5 of the message ("body" or "attributes"), or null when there is none. */
    String md5(String protocol, String entry, String which) {
      if (body == null) {
        return null;
      }
      return md5s.computeIfAbsent(
              List.of(protocol, entry, which),
              key -> Optional.ofNullable(computeMd5(message(protocol, entry), which)))
          .orElse(null);
    }

    private static String computeMd5(Map<?, ?> message, String which) {
      if (message == null) {
        return null;
      }
      if ("body".equals(which)) {
        Object text = message.get("MessageBody");
        return text instanceof String
            ? hex(((String) text).getBytes(StandardCharsets.UTF_8))
            : null;
      }
      return "attributes".equals(which) ? attributesMd5(message.get("MessageAttributes")) : null;
    }

    private Map<?, ?> message(String protocol, String entry) {
      return messages.computeIfAbsent(
              List.of(protocol, entry),
              key -> {
                Object document = documents.computeIfAbsent(protocol, this::parse).orElse(null);
                if (document == null) {
                  return Optional.empty();
                }
                return Optional.ofNullable(
                    "json".equals(protocol)
                        ? jsonMessage((Map<?, ?>) document, entry)
                        : formMessage(castFields(document), entry));
              })
          .orElse(null);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> castFields(Object document) {
      return (Map<String, String>) document;
    }

    /** The body as a protocol reads it: JSON's document or the form's fields; none else. */
    private Optional<Object> parse(String protocol) {
      if ("json".equals(protocol)) {
        try {
          Object document = Json.read(body, Object.class);
          return document instanceof Map ? Optional.of(document) : UNREADABLE;
        } catch (RuntimeException e) {
          return UNREADABLE;
        }
      }
      return "form".equals(protocol) ? Optional.ofNullable(formFields(body)) : UNREADABLE;
    }

    private static Map<?, ?> jsonMessage(Map<?, ?> document, String entry) {
      if (entry.isEmpty()) {
        return document;
      }
      Object entries = document.get("Entries");
      for (Object one : entries instanceof List ? (List<?>) entries : List.of()) {
        if (one instanceof Map && entry.equals(((Map<?, ?>) one).get("Id"))) {
          return (Map<?, ?>) one;
        }
      }
      return null;
    }

    /** A form's fields, decoded; null when one is not URL-encoded or comes twice. */
    private static Map<String, String> formFields(String body) {
      Map<String, String> fields = new HashMap<>();
      for (String pair : body.split("&")) {
        int equals = pair.indexOf('=');
        try {
          String name = decoded(equals < 0 ? pair : pair.substring(0, equals));
          String value = equals < 0 ? "" : decoded(pair.substring(equals + 1));
          if (fields.putIfAbsent(name, value) != null) {
            return null; // a field twice: which one SQS reads is not ours to guess
          }
        } catch (IllegalArgumentException e) {
          return null;
        }
      }
      return fields;
    }

    /** A form's message as the JSON protocol names its fields. */
    private static Map<?, ?> formMessage(Map<String, String> fields, String entry) {
      String prefix = "";
      if (!entry.isEmpty()) {
        prefix = null;
        for (Map.Entry<String, String> field : fields.entrySet()) {
          Matcher id = FORM_ENTRY_ID.matcher(field.getKey());
          if (id.matches() && entry.equals(field.getValue())) {
            prefix = ENTRY + id.group(1) + ".";
          }
        }
        if (prefix == null) {
          return null;
        }
      }
      Map<String, Object> message = new HashMap<>();
      Map<String, Map<String, String>> numbered = new TreeMap<>();
      for (Map.Entry<String, String> field : fields.entrySet()) {
        if (!field.getKey().startsWith(prefix)) {
          continue;
        }
        String name = field.getKey().substring(prefix.length());
        Matcher attribute = FORM_ATTRIBUTE.matcher(name);
        if (name.equals("MessageBody")) {
          message.put(name, field.getValue());
        } else if (attribute.matches()) {
          numbered
              .computeIfAbsent(attribute.group(1), n -> new HashMap<>())
              .put(attribute.group(2).replace("Value.", ""), field.getValue());
        }
      }
      if (!numbered.isEmpty()) {
        Map<String, Object> attributes = new HashMap<>();
        for (Map<String, String> given : numbered.values()) {
          String name = given.remove("Name");
          if (name == null || attributes.put(name, given) != null) {
            return null;
          }
        }
        message.put("MessageAttributes", attributes);
      }
      return message;
    }

    private static String decoded(String part) {
      return URLDecoder.decode(part, StandardCharsets.UTF_8);
    }

    private static String attributesMd5(Object attributes) {
      if (!(attributes instanceof Map) || ((Map<?, ?>) attributes).isEmpty()) {
        return null;
      }
      Map<String, Object> byName = new TreeMap<>();
      for (Map.Entry<?, ?> one : ((Map<?, ?>) attributes).entrySet()) {
        byName.put(String.valueOf(one.getKey()), one.getValue());
      }
      MessageDigest md5 = newMd5();
      for (Map.Entry<String, Object> one : byName.entrySet()) {
        if (!(one.getValue() instanceof Map)) {
          return null;
        }
        Map<?, ?> value = (Map<?, ?>) one.getValue();
        Object type = value.get("DataType");
        Object text = value.get("StringValue");
        Object binary = value.get("BinaryValue");
        byte transport;
        byte[] data;
        if (!(type instanceof String)) {
          return null;
        } else if (text instanceof String) {
          transport = 1;
          data = ((String) text).getBytes(StandardCharsets.UTF_8);
        } else if (binary instanceof String) {
          transport = 2;
          try {
            data = Base64.getDecoder().decode((String) binary);
          } catch (IllegalArgumentException e) {
            return null;
          }
        } else {
          return null;
        }
        sized(md5, one.getKey().getBytes(StandardCharsets.UTF_8));
        sized(md5, ((String) type).getBytes(StandardCharsets.UTF_8));
        md5.update(transport);
        sized(md5, data);
      }
      return HexFormat.of().formatHex(md5.digest());
    }

    private static void sized(MessageDigest md5, byte[] data) {
      md5.update(
          new byte[] {
            (byte) (data.length >>> 24), (byte) (data.length >>> 16),
            (byte) (data.length >>> 8), (byte) data.length
          });
      md5.update(data);
    }

    private static String hex(byte[] data) {
      return HexFormat.of().formatHex(newMd5().digest(data));
    }

    private static MessageDigest newMd5() {
      try {
        return MessageDigest.getInstance("MD5");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every JDK has MD5", e);
      }
    }
  }

  /**
   * An S3 upload sent aws-chunked (a SigV4 streaming upload, signed chunk by chunk, or one
   * with its checksum in a trailer), matched on its payload: the request matcher
   * "mockado-aws-chunked" undoes the framing, whatever the chunk sizes, and matches the
   * payload against its parameter "sha256" (the recorded payload's SHA-256 in hex: a binary
   * or exact payload) or "matches" (a regex of the whole payload read as UTF-8, as a text
   * body's: its dynamic values as wildcards). Chunk signatures and trailers are not checked:
   * they change on every upload, and a trailer's checksum is of the payload, matched already.
   * A body that does not frame exactly as S3 takes it, or frames a payload of another length
   * than x-amz-decoded-content-length, matches nothing.
   *
   * A request's payload (and its SHA-256, its text) is worked out once, whatever the number
   * of stubs evaluated, kept under the request's id until WireMock has answered it.
   */
  static final class AwsChunkedUploads extends RequestMatcherExtension
      implements ServeEventListener {
    static final String NAME = "mockado-aws-chunked";
    static final String DECODED_LENGTH = "x-amz-decoded-content-length";
    // Safety bounds: an entry is dropped when its request is answered, and a pattern is
    // compiled once per stub regex (the map forgets them all past this many).
    static final int MAX_REQUESTS_DECODED = 1_000;
    static final int MAX_PATTERNS = 10_000;
    private static final Pattern SIZE_LINE =
        Pattern.compile("([0-9A-Fa-f]{1,16})((?:;[!-:<-~]+)*)");
    private static final Pattern TRAILER =
        Pattern.compile("[!#-'*+\\-.0-9A-Z^-z|~]+:[ \\t]*[ -~\\t]*");
    private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,18}");
    private final Map<String, Payload> decoded = new ConcurrentHashMap<>();
    private final Map<String, Pattern> patterns = new ConcurrentHashMap<>();

    @Override
    public String getName() {
      return NAME;
    }

    @Override
    public boolean applyGlobally() {
      return true;
    }

    @Override
    public MatchResult match(Request request, Parameters parameters) {
      Payload payload = payloadOf(request);
      if (payload.chunks == null) {
        return MatchResult.noMatch();
      }
      String sha256 = parameters.getString("sha256", null);
      if (sha256 != null) {
        return MatchResult.of(sha256.equalsIgnoreCase(payload.sha256()));
      }
      String regex = parameters.getString("matches", null);
      String text = regex == null ? null : payload.text();
      try {
        return MatchResult.of(text != null && pattern(regex).matcher(text).matches());
      } catch (PatternSyntaxException e) {
        return MatchResult.noMatch(); // a stub mockado did not write: it matches nothing
      }
    }

    @Override
    public void afterComplete(ServeEvent event, Parameters parameters) {
      UUID id = event.getRequest() == null ? null : event.getRequest().getId();
      if (id != null) {
        decoded.remove(id.toString());
      }
    }

    private Payload payloadOf(Request request) {
      UUID id = request.getId();
      if (id == null) {
        return Payload.of(request.getBody(), request.getHeader(DECODED_LENGTH));
      }
      if (decoded.size() >= MAX_REQUESTS_DECODED) {
        decoded.clear();
      }
      return decoded.computeIfAbsent(
          id.toString(),
          k -> Payload.of(request.getBody(), request.getHeader(DECODED_LENGTH)));
    }

    private Pattern pattern(String regex) {
      Pattern compiled = patterns.get(regex);
      if (compiled == null) {
        if (patterns.size() >= MAX_PATTERNS) {
          patterns.clear();
        }
        compiled = patterns.computeIfAbsent(regex, Pattern::compile);
      }
      return compiled;
    }

    /**
     * Where the payload `body` frames lies in it, as (offset, length) pairs, one per data
     * chunk; null when `body` does not frame one exactly as S3 takes it: chunks of a hex size
     * (any extensions: the chunk signature), each followed by CRLF; the last one empty, then
     * trailer lines and an empty line, nothing after; `decodedLength` bytes of payload in all.
     */
    static int[] chunks(byte[] body, String decodedLength) {
      if (body == null || decodedLength == null || !DECIMAL.matcher(decodedLength.trim()).matches()) {
        return null;
      }
      long expected = Long.parseLong(decodedLength.trim());
      int[] out = new int[8];
      int used = 0;
      long filled = 0;
      int at = 0;
      while (true) {
        int lineEnd = lineEnd(body, at);
        if (lineEnd < 0) {
          return null;
        }
        Matcher line = SIZE_LINE.matcher(new String(body, at, lineEnd - at, StandardCharsets.ISO_8859_1));
        if (!line.matches()) {
          return null;
        }
        long size = Long.parseUnsignedLong(line.group(1), 16);
        at = lineEnd + 2;
        if (size == 0) {
          break;
        }
        if (size < 0 || size > expected - filled || size > body.length - at - 2L
            || body[at + (int) size] != '\r' || body[at + (int) size + 1] != '\n') {
          return null; // past the declared length or the body, or no CRLF after it
        }
        if (used == out.length) {
          out = Arrays.copyOf(out, used * 2);
        }
        out[used++] = at;
        out[used++] = (int) size;
        filled += size;
        at += (int) size + 2;
      }
      for (int lineEnd = lineEnd(body, at); lineEnd != at; lineEnd = lineEnd(body, at)) {
        if (lineEnd < 0
            || !TRAILER.matcher(new String(body, at, lineEnd - at, StandardCharsets.ISO_8859_1))
                .matches()) {
          return null;
        }
        at = lineEnd + 2;
      }
      return at + 2 == body.length && filled == expected ? Arrays.copyOf(out, used) : null;
    }

    /** Where the line starting at `from` ends (its CR), or -1 when no CRLF follows. */
    private static int lineEnd(byte[] body, int from) {
      for (int at = from; at + 1 < body.length; at++) {
        if (body[at] == '\r' && body[at + 1] == '\n') {
          return at;
        }
      }
      return -1;
    }
  }

  /**
   * A request's aws-chunked payload, where it lies in the body as sent (null: not framed so),
   * its SHA-256 (over the chunks in place: no copy) and its text, each worked out once.
   */
  static final class Payload {
    final byte[] body;
    final int[] chunks;
    private volatile String sha256;
    private volatile Optional<String> text;

    private Payload(byte[] body, int[] chunks) {
      this.body = body;
      this.chunks = chunks;
    }

    static Payload of(byte[] body, String decodedLength) {
      return new Payload(body, AwsChunkedUploads.chunks(body, decodedLength));
    }

    String sha256() {
      if (sha256 == null) {
        try {
          MessageDigest digest = MessageDigest.getInstance("SHA-256");
          for (int i = 0; i < chunks.length; i += 2) {
            digest.update(body, chunks[i], chunks[i + 1]);
          }
          sha256 = HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
          throw new IllegalStateException("every JDK has SHA-256", e);
        }
      }
      return sha256;
    }

    /** The payload as UTF-8 text, or null when it is not UTF-8 (no text regex holds it). */
    String text() {
      if (text == null) {
        int length = 0;
        for (int i = 1; i < chunks.length; i += 2) {
          length += chunks[i];
        }
        ByteBuffer joined = ByteBuffer.allocate(length);
        for (int i = 0; i < chunks.length; i += 2) {
          joined.put(body, chunks[i], chunks[i + 1]);
        }
        try {
          text = Optional.of(StandardCharsets.UTF_8.newDecoder().decode(joined.flip()).toString());
        } catch (CharacterCodingException e) {
          text = Optional.empty();
        }
      }
      return text.orElse(null);
    }
  }
}
