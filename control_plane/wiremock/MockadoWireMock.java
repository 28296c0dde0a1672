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
// request; counters go with their stub) and lists them at GET /__admin/mockado/hits as
// {"<stub id>": count}: the console's canary hits, without a request journal.

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.admin.Router;
import com.github.tomakehurst.wiremock.common.FileSource;
import com.github.tomakehurst.wiremock.common.Urls;
import com.github.tomakehurst.wiremock.extension.AdminApiExtension;
import com.github.tomakehurst.wiremock.extension.ExtensionDeclarations;
import com.github.tomakehurst.wiremock.extension.Parameters;
import com.github.tomakehurst.wiremock.extension.ServeEventListener;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

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
        stores = new IndexedStores(filesRoot(), hits);
      }
      return stores;
    }

    @Override
    public synchronized ExtensionDeclarations getDeclaredExtensions() {
      if (extensions == null) {
        extensions = super.getDeclaredExtensions();
        extensions.add(hits);
      }
      return extensions;
    }
  }

  /** How many requests each stub answered; a stub's count goes when the stub goes. */
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

    void forget(UUID id) {
      counts.remove(id);
    }

    void clear() {
      counts.clear();
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

    IndexedStores(FileSource root, StubHits hits) {
      super(root);
      stubs = new IndexedStubMappingStore(hits);
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
    private final StubHits hits;

    IndexedStubMappingStore(StubHits hits) {
      this.hits = hits;
    }

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
      unfile(stub.getId());
      hits.forget(stub.getId());
    }

    @Override
    public synchronized void clear() {
      super.clear();
      hits.clear();
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
}
