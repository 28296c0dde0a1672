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
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
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

    private final Map<String, NavigableSet<StubMapping>> byUrl = new ConcurrentHashMap<>();
    private final Map<String, NavigableSet<StubMapping>> byPath = new ConcurrentHashMap<>();
    private final NavigableSet<StubMapping> byPattern = new ConcurrentSkipListSet<>(WIREMOCK_ORDER);
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
      byPattern.clear();
      filed.clear();
    }

    @Override
    public Stream<StubMapping> findAllMatchingRequest(
        Request request,
        Map<String, RequestMatcherExtension> customMatchers,
        Consumer<SubEvent> subEventConsumer) {
      String url = request.getUrl();
      List<Iterator<StubMapping>> sources = new ArrayList<>(3);
      if (url != null) {
        addIfPresent(sources, byUrl.get(url));
        addIfPresent(sources, byPath.get(Urls.getPath(url)));
      }
      sources.add(byPattern.iterator());
      Iterator<StubMapping> candidates = new OrderedMerge(sources);
      // As StubMappingStore's default: every evaluated stub's sub-events, then the matches.
      return StreamSupport.stream(
              Spliterators.spliteratorUnknownSize(candidates, Spliterator.ORDERED), false)
          .filter(
              stub -> {
                MatchResult result = stub.getRequest().match(request, customMatchers);
                result.getSubEvents().forEach(subEventConsumer);
                return result.isExactMatch();
              });
    }

    private static void addIfPresent(List<Iterator<StubMapping>> sources, NavigableSet<StubMapping> set) {
      if (set != null) {
        sources.add(set.iterator());
      }
    }

    private void file(StubMapping stub) {
      NavigableSet<StubMapping> bucket = bucketFor(stub, true);
      bucket.add(stub);
      filed.put(stub.getId(), stub);
    }

    private void unfile(UUID id) {
      StubMapping stub = filed.remove(id);
      if (stub == null) {
        return;
      }
      NavigableSet<StubMapping> bucket = bucketFor(stub, false);
      if (bucket != null) {
        bucket.removeIf(s -> s.getId().equals(id));
        if (bucket != byPattern && bucket.isEmpty()) {
          byUrl.remove(exactUrlValue(stub), bucket);
          byPath.remove(exactUrlValue(stub), bucket);
        }
      }
    }

    private NavigableSet<StubMapping> bucketFor(StubMapping stub, boolean create) {
      String value = exactUrlValue(stub);
      if (value == null) {
        return byPattern;
      }
      Map<String, NavigableSet<StubMapping>> index =
          stub.getRequest().getUrlMatcher().getClass() == UrlPathPattern.class ? byPath : byUrl;
      return create
          ? index.computeIfAbsent(value, k -> new ConcurrentSkipListSet<>(WIREMOCK_ORDER))
          : index.get(value);
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

  /** Merges iterators that are each in WireMock's order into one in that order. */
  static final class OrderedMerge implements Iterator<StubMapping> {
    private final List<Iterator<StubMapping>> sources;
    private final StubMapping[] heads;

    OrderedMerge(List<Iterator<StubMapping>> sources) {
      this.sources = sources;
      this.heads = new StubMapping[sources.size()];
      for (int i = 0; i < heads.length; i++) {
        heads[i] = sources.get(i).hasNext() ? sources.get(i).next() : null;
      }
    }

    @Override
    public boolean hasNext() {
      for (StubMapping head : heads) {
        if (head != null) {
          return true;
        }
      }
      return false;
    }

    @Override
    public StubMapping next() {
      int first = -1;
      for (int i = 0; i < heads.length; i++) {
        if (heads[i] != null
            && (first < 0
                || IndexedStubMappingStore.WIREMOCK_ORDER.compare(heads[i], heads[first]) < 0)) {
          first = i;
        }
      }
      if (first < 0) {
        throw new NoSuchElementException();
      }
      StubMapping next = heads[first];
      Iterator<StubMapping> source = sources.get(first);
      heads[first] = source.hasNext() ? source.next() : null;
      return next;
    }
  }
}
