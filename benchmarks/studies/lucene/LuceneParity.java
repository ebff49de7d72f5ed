// searchlib's OpenSearch settings run on real Lucene (9.5, from Anserini's fat jar).
//
// The analyzers are built with Lucene's CustomAnalyzer from the very JSON searchlib
// generates for OpenSearch (the "analysis" section of the index body): each OpenSearch
// component type is mapped to the Lucene factory OpenSearch itself wraps, with the same
// parameters. Documents come from the NDJSON bulk file searchlib exports, and queries
// are the OpenSearch query DSL searchlib's translator writes, turned into Lucene queries
// the way OpenSearch builds them. Nothing searchlib-specific is written in Java: what is
// tested is the generated JSON.
//
// Usage (classpath: this folder's build output and the Lucene jar):
//   java LuceneParity version
//   java LuceneParity analyze BODY.json ANALYZER IN.jsonl OUT.jsonl
//       IN: {"id", "text"} per line; OUT: {"id", "tokens": [[term, position, start, end]...]}
//   java LuceneParity index BODY.json BULK.ndjson INDEX_DIR [LENGTHS.json]
//   java LuceneParity vocab INDEX_DIR OUT.tsv            field, term, document frequency
//   java LuceneParity search BODY.json INDEX_DIR QUERIES.jsonl OUT.tsv [LENGTHS.json]
//       QUERIES: {"qid", "query": <DSL>, "size": N} per line; OUT: qid, doc_id, score
//       (passages collapsed on doc_id: a document ranks by its best passage)
//   With LENGTHS.json ({"lengths": Whoosh's 256 quantised field lengths}), the fields
//   score with searchlib's own BM25F formula (Whoosh's) instead of Lucene's BM25: a
//   diagnosis of the study, to tell the formula's part from the translation's.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenFilterFactory;
import org.apache.lucene.util.ResourceLoader;
import org.apache.lucene.util.ResourceLoaderAware;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.custom.CustomAnalyzer;
import org.apache.lucene.analysis.miscellaneous.PerFieldAnalyzerWrapper;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterIterator;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.document.IntPoint;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FieldInvertState;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.MultiTerms;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.queries.spans.SpanNearQuery;
import org.apache.lucene.queries.spans.SpanQuery;
import org.apache.lucene.queries.spans.SpanTermQuery;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.BoostQuery;
import org.apache.lucene.search.CollectionStatistics;
import org.apache.lucene.search.FuzzyQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.MultiTermQuery;
import org.apache.lucene.search.PhraseQuery;
import org.apache.lucene.search.PrefixQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermStatistics;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.search.similarities.PerFieldSimilarityWrapper;
import org.apache.lucene.search.similarities.Similarity;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.Version;

public final class LuceneParity {
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      throw new IllegalArgumentException("usage: LuceneParity version|analyze|index|vocab|search ...");
    }
    switch (args[0]) {
      case "version" -> System.out.println(Version.LATEST);
      case "analyze" -> analyze(read(args[1]), args[2], Paths.get(args[3]), Paths.get(args[4]));
      case "index" -> index(read(args[1]), Paths.get(args[2]), Paths.get(args[3]), lengths(args, 4));
      case "vocab" -> vocab(Paths.get(args[1]), Paths.get(args[2]));
      case "search" -> search(
          read(args[1]), Paths.get(args[2]), Paths.get(args[3]), Paths.get(args[4]), lengths(args, 5));
      default -> throw new IllegalArgumentException("unknown command " + args[0]);
    }
  }

  private static long[] lengths(String[] args, int at) throws IOException {
    if (args.length <= at) {
      return null;
    }
    JsonNode table = read(args[at]).path("lengths");
    long[] out = new long[table.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = table.get(i).asLong();
    }
    return out;
  }

  private static JsonNode read(String path) throws IOException {
    return JSON.readTree(Files.readString(Paths.get(path), StandardCharsets.UTF_8));
  }

  // -- analyzers from OpenSearch's analysis settings ------------------------------------

  /** The analyzer named {@code name} in the body's settings.analysis, as OpenSearch builds it. */
  static Analyzer analyzer(JsonNode body, String name) throws IOException {
    JsonNode analysis = body.path("settings").path("analysis");
    JsonNode def = analysis.path("analyzer").path(name);
    if (def.isMissingNode()) {
      throw new IllegalArgumentException("no analyzer " + name + " in the settings");
    }
    if (!"custom".equals(def.path("type").asText("custom"))) {
      throw new IllegalArgumentException("analyzer " + name + " is not a custom analyzer");
    }
    Path words = Files.createTempDirectory("searchlib-lucene-words");
    words.toFile().deleteOnExit();
    CustomAnalyzer.Builder builder = CustomAnalyzer.builder(words);
    int n = 0;
    for (JsonNode c : def.path("char_filter")) {
      JsonNode cdef = analysis.path("char_filter").path(c.asText());
      if (!"mapping".equals(cdef.path("type").asText())) {
        throw new IllegalArgumentException("char filter not mapped: " + c);
      }
      // OpenSearch's rules "a => b"; Lucene's mapping file: "a" => "b"
      List<String> lines = new ArrayList<>();
      for (String rule : strings(cdef.path("mappings"))) {
        String[] sides = rule.split("=>", -1);
        if (sides.length != 2) {
          throw new IllegalArgumentException("bad mapping rule: " + rule);
        }
        lines.add(quote(sides[0].trim()) + " => " + quote(sides[1].trim()));
      }
      String file = wordFile(words, "c" + (n++) + "-mapping.txt", lines);
      builder.addCharFilter("mapping", "mapping", file);
    }
    String tokenizer = def.path("tokenizer").asText();
    JsonNode tdef = analysis.path("tokenizer").path(tokenizer);
    if (tdef.isMissingNode()) {
      switch (tokenizer) {
        case "whitespace" -> builder.withTokenizer("whitespace");
        case "keyword" -> builder.withTokenizer("keyword");
        default -> throw new IllegalArgumentException("built-in tokenizer not mapped: " + tokenizer);
      }
    } else if ("pattern".equals(tdef.path("type").asText())) {
      // OpenSearch's PatternTokenizerFactory: pattern (flags none here), group (default -1)
      if (tdef.has("flags")) {
        throw new IllegalArgumentException("pattern tokenizer flags are not mapped");
      }
      builder.withTokenizer(
          "pattern",
          "pattern", tdef.path("pattern").asText(),
          "group", Integer.toString(tdef.path("group").asInt(-1)));
    } else {
      throw new IllegalArgumentException("tokenizer type not mapped: " + tdef.path("type"));
    }
    for (JsonNode f : def.path("filter")) {
      String fname = f.asText();
      JsonNode fdef = analysis.path("filter").path(fname);
      if (fdef.isMissingNode()) {
        switch (fname) {
          case "lowercase" -> builder.addTokenFilter("lowercase");
          case "asciifolding" -> builder.addTokenFilter("asciiFolding", "preserveOriginal", "false");
          default -> throw new IllegalArgumentException("built-in filter not mapped: " + fname);
        }
        continue;
      }
      String prefix = "f" + (n++) + "-";
      addFilter(builder, fname, fdef, words, prefix);
    }
    return builder.build();
  }

  private static String quote(String s) {
    if (s.contains("\\") || s.contains("\"")) {
      throw new IllegalArgumentException("mapping rule needs escapes: " + s);
    }
    return "\"" + s + "\"";
  }

  private static String bool(JsonNode def, String key, boolean fallback) {
    JsonNode v = def.get(key);
    boolean b = v == null ? fallback : (v.isBoolean() ? v.asBoolean() : Boolean.parseBoolean(v.asText()));
    return b ? "1" : "0";
  }

  private static String tf(JsonNode def, String key, boolean fallback) {
    return "1".equals(bool(def, key, fallback)) ? "true" : "false";
  }

  private static String wordFile(Path dir, String name, List<String> lines) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, lines, StandardCharsets.UTF_8);
    p.toFile().deleteOnExit();
    return name;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    for (JsonNode x : array) {
      out.add(x.asText());
    }
    return out;
  }

  private static void addFilter(
      CustomAnalyzer.Builder b, String name, JsonNode def, Path words, String prefix)
      throws IOException {
    String type = def.path("type").asText();
    switch (type) {
      case "pattern_replace" -> {
        if (def.has("flags")) {
          throw new IllegalArgumentException("pattern_replace flags are not mapped");
        }
        b.addTokenFilter(
            "patternReplace",
            "pattern", def.path("pattern").asText(),
            "replacement", def.path("replacement").asText(""),
            "replace", "1".equals(bool(def, "all", true)) ? "all" : "first");
      }
      case "keyword_marker" -> {
        if (def.has("keywords_pattern")) {
          b.addTokenFilter(
              "keywordMarker",
              "pattern", def.path("keywords_pattern").asText(),
              "ignoreCase", tf(def, "ignore_case", false));
        } else {
          String file = wordFile(words, prefix + "keywords.txt", strings(def.path("keywords")));
          b.addTokenFilter("keywordMarker", "protected", file, "ignoreCase", tf(def, "ignore_case", false));
        }
      }
      case "elision" -> {
        String file = wordFile(words, prefix + "articles.txt", strings(def.path("articles")));
        b.addTokenFilter("elision", "articles", file, "ignoreCase", tf(def, "articles_case", false));
      }
      case "length" -> b.addTokenFilter(
          "length",
          "min", Integer.toString(def.path("min").asInt(0)),
          "max", Integer.toString(def.path("max").asInt(Integer.MAX_VALUE)));
      case "word_delimiter_graph" -> {
        List<String> params = new ArrayList<>(List.of(
            "generateWordParts", bool(def, "generate_word_parts", true),
            "generateNumberParts", bool(def, "generate_number_parts", true),
            "catenateWords", bool(def, "catenate_words", false),
            "catenateNumbers", bool(def, "catenate_numbers", false),
            "catenateAll", bool(def, "catenate_all", false),
            "splitOnCaseChange", bool(def, "split_on_case_change", true),
            "preserveOriginal", bool(def, "preserve_original", false),
            "splitOnNumerics", bool(def, "split_on_numerics", true),
            "stemEnglishPossessive", bool(def, "stem_english_possessive", true),
            "ignoreKeywords", bool(def, "ignore_keywords", false),
            "adjustOffsets", bool(def, "adjust_offsets", true)));
        if (def.has("type_table")) {
          params.add("types");
          params.add(wordFile(words, prefix + "types.txt", strings(def.path("type_table"))));
        }
        if (def.has("protected_words")) {
          throw new IllegalArgumentException("protected_words are not mapped");
        }
        b.addTokenFilter(WordDelimiterGraph.class, params.toArray(new String[0]));
      }
      case "stemmer_override" -> {
        // OpenSearch's rules "a, b => c"; Lucene's dictionary: "a<TAB>c" lines
        List<String> lines = new ArrayList<>();
        for (String rule : strings(def.path("rules"))) {
          String[] sides = rule.split("=>", -1);
          if (sides.length != 2) {
            throw new IllegalArgumentException("bad stemmer_override rule: " + rule);
          }
          for (String key : sides[0].split(",")) {
            lines.add(key.trim() + "\t" + sides[1].trim());
          }
        }
        String file = wordFile(words, prefix + "override.txt", lines);
        b.addTokenFilter("stemmerOverride", "dictionary", file, "ignoreCase", "false");
      }
      case "snowball" -> b.addTokenFilter("snowballPorter", "language", def.path("language").asText());
      case "stop" -> {
        String file = wordFile(words, prefix + "stop.txt", strings(def.path("stopwords")));
        b.addTokenFilter("stop", "words", file, "ignoreCase", tf(def, "ignore_case", false));
      }
      default -> throw new IllegalArgumentException("filter type not mapped: " + type + " (" + name + ")");
    }
  }

  /**
   * OpenSearch's word_delimiter_graph factory: Lucene's WordDelimiterGraphFilter built with
   * the flags OpenSearch reads, IGNORE_KEYWORDS included (Lucene's own factory has no
   * parameter for it), and a type table in the same "c => TYPE" format.
   */
  public static final class WordDelimiterGraph extends TokenFilterFactory
      implements ResourceLoaderAware {
    private final int flags;
    private final boolean adjustOffsets;
    private final String typesFile;
    private byte[] types = WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE;

    public WordDelimiterGraph(Map<String, String> args) throws IOException {
      super(args);
      int f = 0;
      f |= flag(args, "generateWordParts", WordDelimiterGraphFilter.GENERATE_WORD_PARTS);
      f |= flag(args, "generateNumberParts", WordDelimiterGraphFilter.GENERATE_NUMBER_PARTS);
      f |= flag(args, "catenateWords", WordDelimiterGraphFilter.CATENATE_WORDS);
      f |= flag(args, "catenateNumbers", WordDelimiterGraphFilter.CATENATE_NUMBERS);
      f |= flag(args, "catenateAll", WordDelimiterGraphFilter.CATENATE_ALL);
      f |= flag(args, "splitOnCaseChange", WordDelimiterGraphFilter.SPLIT_ON_CASE_CHANGE);
      f |= flag(args, "preserveOriginal", WordDelimiterGraphFilter.PRESERVE_ORIGINAL);
      f |= flag(args, "splitOnNumerics", WordDelimiterGraphFilter.SPLIT_ON_NUMERICS);
      f |= flag(args, "stemEnglishPossessive", WordDelimiterGraphFilter.STEM_ENGLISH_POSSESSIVE);
      f |= flag(args, "ignoreKeywords", WordDelimiterGraphFilter.IGNORE_KEYWORDS);
      flags = f;
      adjustOffsets = "1".equals(args.remove("adjustOffsets"));
      typesFile = args.remove("types");
      if (!args.isEmpty()) {
        throw new IllegalArgumentException("Unknown parameters: " + args);
      }
    }

    private static int flag(Map<String, String> args, String key, int flag) {
      return "1".equals(args.remove(key)) ? flag : 0;
    }

    @Override
    public void inform(ResourceLoader loader) throws IOException {
      if (typesFile != null) {
        types = parseTypes(getLines(loader, typesFile));
      }
    }

    private static byte[] parseTypes(List<String> rules) {
      Map<Character, Byte> map = new HashMap<>();
      for (String rule : rules) {
        String[] sides = rule.split("=>", -1);
        if (sides.length != 2) {
          throw new IllegalArgumentException("bad type rule: " + rule);
        }
        String lhs = sides[0].trim();
        char c = lhs.startsWith("\\u") ? (char) Integer.parseInt(lhs.substring(2), 16) : lhs.charAt(0);
        if (lhs.length() != 1 && !lhs.startsWith("\\u")) {
          throw new IllegalArgumentException("one character per type rule: " + rule);
        }
        byte type = switch (sides[1].trim()) {
          case "LOWER" -> (byte) WordDelimiterFilter.LOWER;
          case "UPPER" -> (byte) WordDelimiterFilter.UPPER;
          case "ALPHA" -> (byte) WordDelimiterFilter.ALPHA;
          case "DIGIT" -> (byte) WordDelimiterFilter.DIGIT;
          case "ALPHANUM" -> (byte) WordDelimiterFilter.ALPHANUM;
          case "SUBWORD_DELIM" -> (byte) WordDelimiterFilter.SUBWORD_DELIM;
          default -> throw new IllegalArgumentException("unknown type: " + rule);
        };
        map.put(c, type);
      }
      int size = Math.max(WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE.length,
          map.keySet().stream().mapToInt(ch -> ch + 1).max().orElse(0));
      byte[] table = new byte[size];
      for (int i = 0; i < size; i++) {
        table[i] = i < WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE.length
            ? WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE[i]
            : WordDelimiterIterator.getType(i);
      }
      for (Map.Entry<Character, Byte> e : map.entrySet()) {
        table[e.getKey()] = e.getValue();
      }
      return table;
    }

    @Override
    public TokenStream create(TokenStream input) {
      return new WordDelimiterGraphFilter(input, adjustOffsets, types, flags, null);
    }
  }

  // -- analyze -----------------------------------------------------------------------------

  static void analyze(JsonNode body, String name, Path in, Path out) throws IOException {
    try (Analyzer analyzer = analyzer(body, name);
        BufferedReader r = Files.newBufferedReader(in, StandardCharsets.UTF_8);
        BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode doc = JSON.readTree(line);
        ObjectNode o = JSON.createObjectNode();
        o.put("id", doc.path("id").asText());
        ArrayNode tokens = o.putArray("tokens");
        try (TokenStream ts = analyzer.tokenStream("text", doc.path("text").asText())) {
          CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
          PositionIncrementAttribute inc = ts.addAttribute(PositionIncrementAttribute.class);
          OffsetAttribute off = ts.addAttribute(OffsetAttribute.class);
          ts.reset();
          int pos = -1;
          while (ts.incrementToken()) {
            pos += inc.getPositionIncrement();
            ArrayNode t = tokens.addArray();
            t.add(term.toString()).add(pos).add(off.startOffset()).add(off.endOffset());
          }
          ts.end();
        }
        w.write(JSON.writeValueAsString(o));
        w.newLine();
      }
    }
  }

  // -- index -------------------------------------------------------------------------------

  private static final String[] TEXT_FIELDS = {"title", "text", "exact"};

  /** Field name -> analyzer name, from the body's mappings. */
  private static Map<String, String> fieldAnalyzers(JsonNode body) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String f : TEXT_FIELDS) {
      out.put(f, body.path("mappings").path("properties").path(f).path("analyzer").asText());
    }
    return out;
  }

  static Analyzer indexAnalyzer(JsonNode body) throws IOException {
    Map<String, Analyzer> per = new HashMap<>();
    Map<String, Analyzer> byName = new HashMap<>();
    for (Map.Entry<String, String> e : fieldAnalyzers(body).entrySet()) {
      Analyzer a = byName.get(e.getValue());
      if (a == null) {
        a = analyzer(body, e.getValue());
        byName.put(e.getValue(), a);
      }
      per.put(e.getKey(), a);
    }
    return new PerFieldAnalyzerWrapper(per.get("text"), per);
  }

  /** Per-field BM25 as the mappings' "similarity" and settings.index.similarity say
   * (with {@code lengths}, Whoosh's formula with the same k1 and b). */
  static Similarity similarity(JsonNode body, long[] lengths) {
    JsonNode defs = body.path("settings").path("index").path("similarity");
    Map<String, Similarity> per = new HashMap<>();
    for (String f : TEXT_FIELDS) {
      String name = body.path("mappings").path("properties").path(f).path("similarity").asText();
      JsonNode def = defs.path(name);
      if (!"BM25".equals(def.path("type").asText())) {
        throw new IllegalArgumentException("field " + f + ": similarity " + name + " is not BM25");
      }
      float k1 = (float) def.path("k1").asDouble(1.2);
      float b = (float) def.path("b").asDouble(0.75);
      per.put(
          f,
          lengths != null
              ? new WhooshBM25(k1, b, lengths)
              : new BM25Similarity(k1, b, def.path("discount_overlaps").asBoolean(true)));
    }
    Similarity fallback = new BM25Similarity();
    return new PerFieldSimilarityWrapper() {
      @Override
      public Similarity get(String name) {
        return per.getOrDefault(name, fallback);
      }
    };
  }

  /**
   * Whoosh's BM25F for one field, as searchlib scores: idf = ln(N / (df + 1)) + 1 over all
   * passages, average length over all passages, the length of a passage quantised as
   * Whoosh stores it (norms hold the exact token count, overlaps included).
   */
  static final class WhooshBM25 extends Similarity {
    private final double k1;
    private final double b;
    private final long[] table;

    WhooshBM25(float k1, float b, long[] table) {
      this.k1 = k1;
      this.b = b;
      this.table = table;
    }

    @Override
    public long computeNorm(FieldInvertState state) {
      return state.getLength();
    }

    private double quantised(long length) {
      int at = java.util.Arrays.binarySearch(table, length);
      if (at < 0) {
        at = -at - 1;  // bisect_left
      }
      return table[Math.min(at, table.length - 1)];
    }

    @Override
    public SimScorer scorer(float boost, CollectionStatistics collection, TermStatistics... terms) {
      double n = collection.maxDoc();
      double idf = 0;
      for (TermStatistics t : terms) {
        idf += Math.log(n / (t.docFreq() + 1.0)) + 1.0;
      }
      double avg = collection.sumTotalTermFreq() / n;
      double average = avg > 0 ? avg : 1.0;
      double weight = boost * idf;
      return new SimScorer() {
        @Override
        public float score(float freq, long norm) {
          double length = quantised(norm);
          return (float) (weight * (freq * (k1 + 1)) / (freq + k1 * ((1 - b) + b * length / average)));
        }
      };
    }
  }

  static void index(JsonNode body, Path bulk, Path dir, long[] lengths) throws IOException {
    JsonNode props = body.path("mappings").path("properties");
    List<String> exactFrom = new ArrayList<>();
    for (String f : new String[] {"title", "text"}) {
      for (JsonNode target : props.path(f).path("copy_to")) {
        if ("exact".equals(target.asText())) {
          exactFrom.add(f);
        }
      }
    }
    FieldType exactType = new FieldType();
    exactType.setTokenized(true);
    exactType.setIndexOptions(
        "freqs".equals(props.path("exact").path("index_options").asText())
            ? IndexOptions.DOCS_AND_FREQS
            : IndexOptions.DOCS_AND_FREQS_AND_POSITIONS);
    exactType.freeze();
    IndexWriterConfig config = new IndexWriterConfig(indexAnalyzer(body));
    config.setSimilarity(similarity(body, lengths));
    config.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
    config.setRAMBufferSizeMB(256);
    try (FSDirectory d = FSDirectory.open(dir);
        IndexWriter writer = new IndexWriter(d, config);
        BufferedReader r = Files.newBufferedReader(bulk, StandardCharsets.UTF_8)) {
      String action;
      while ((action = r.readLine()) != null) {
        if (action.isBlank()) {
          continue;
        }
        JsonNode meta = JSON.readTree(action).path("index");
        if (meta.isMissingNode()) {
          throw new IllegalArgumentException("only index actions are read: " + action);
        }
        JsonNode src = JSON.readTree(r.readLine());
        Document doc = new Document();
        doc.add(new StringField("_id", meta.path("_id").asText(), Field.Store.YES));
        doc.add(new StringField("doc_id", src.path("doc_id").asText(), Field.Store.YES));
        doc.add(new SortedDocValuesField("doc_id", new BytesRef(src.path("doc_id").asText())));
        doc.add(new IntPoint("position", src.path("position").asInt()));
        doc.add(new StoredField("position", src.path("position").asInt()));
        for (String f : new String[] {"title", "text"}) {
          doc.add(new TextField(f, src.path(f).asText(""), Field.Store.NO));
        }
        for (String f : exactFrom) {  // copy_to: each source value is a value of "exact"
          doc.add(new Field("exact", src.path(f).asText(""), exactType));
        }
        writer.addDocument(doc);
      }
      writer.forceMerge(1);
    }
  }

  // -- vocab -------------------------------------------------------------------------------

  static void vocab(Path dir, Path out) throws IOException {
    try (FSDirectory d = FSDirectory.open(dir);
        DirectoryReader reader = DirectoryReader.open(d);
        BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      for (String f : new String[] {"title", "text"}) {
        Terms terms = MultiTerms.getTerms(reader, f);
        if (terms == null) {
          continue;
        }
        TermsEnum e = terms.iterator();
        BytesRef t;
        while ((t = e.next()) != null) {
          w.write(f + "\t" + t.utf8ToString() + "\t" + e.docFreq());
          w.newLine();
        }
      }
    }
  }

  // -- search ------------------------------------------------------------------------------

  /** The Lucene query OpenSearch builds for this part of the query DSL. */
  static Query query(JsonNode q) {
    Iterator<String> names = q.fieldNames();
    if (!names.hasNext()) {
      throw new IllegalArgumentException("empty query " + q);
    }
    String kind = names.next();
    if (names.hasNext()) {
      throw new IllegalArgumentException("one query type per object: " + q);
    }
    JsonNode body = q.get(kind);
    switch (kind) {
      case "bool" -> {
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        clauses(b, body.get("must"), BooleanClause.Occur.MUST);
        clauses(b, body.get("should"), BooleanClause.Occur.SHOULD);
        clauses(b, body.get("filter"), BooleanClause.Occur.FILTER);
        clauses(b, body.get("must_not"), BooleanClause.Occur.MUST_NOT);
        if (body.has("minimum_should_match")) {
          b.setMinimumNumberShouldMatch(body.get("minimum_should_match").asInt());
        }
        Query built = b.build();
        if (!body.has("must") && !body.has("should") && !body.has("filter")) {
          // OpenSearch: a bool of must_not clauses only matches all documents but those
          BooleanQuery.Builder all = new BooleanQuery.Builder();
          all.add(new MatchAllDocsQuery(), BooleanClause.Occur.MUST);
          clauses(all, body.get("must_not"), BooleanClause.Occur.MUST_NOT);
          built = all.build();
        }
        return boost(built, body);
      }
      case "term" -> {
        Map.Entry<String, JsonNode> e = single(body);
        JsonNode v = e.getValue();
        String value = v.isObject() ? v.path("value").asText() : v.asText();
        return boost(new TermQuery(new Term(e.getKey(), value)), v);
      }
      case "match_phrase" -> {
        Map.Entry<String, JsonNode> e = single(body);
        JsonNode v = e.getValue();
        String analyzer = v.path("analyzer").asText();
        if (!"searchlib_terms".equals(analyzer) && !"whitespace".equals(analyzer)) {
          throw new IllegalArgumentException("match_phrase: only pre-analysed terms are mapped");
        }
        String[] terms = v.path("query").asText().trim().split("\\s+");
        if (terms.length == 1) {
          return boost(new TermQuery(new Term(e.getKey(), terms[0])), v);
        }
        PhraseQuery.Builder p = new PhraseQuery.Builder();
        for (String t : terms) {
          p.add(new Term(e.getKey(), t));
        }
        p.setSlop(v.path("slop").asInt(0));
        return boost(p.build(), v);
      }
      case "span_near" -> {
        return spanNear(body);
      }
      case "prefix" -> {
        Map.Entry<String, JsonNode> e = single(body);
        JsonNode v = e.getValue();
        PrefixQuery p = new PrefixQuery(new Term(e.getKey(), v.path("value").asText()));
        p.setRewriteMethod(rewrite(v.path("rewrite").asText("constant_score")));
        return boost(p, v);
      }
      case "fuzzy" -> {
        Map.Entry<String, JsonNode> e = single(body);
        JsonNode v = e.getValue();
        FuzzyQuery f = new FuzzyQuery(
            new Term(e.getKey(), v.path("value").asText()),
            v.path("fuzziness").asInt(),
            v.path("prefix_length").asInt(0),
            v.path("max_expansions").asInt(50),
            v.path("transpositions").asBoolean(true));
        if (v.has("rewrite")) {
          f.setRewriteMethod(rewrite(v.path("rewrite").asText()));
        }
        return boost(f, v);
      }
      case "match_all" -> {
        return boost(new MatchAllDocsQuery(), body);
      }
      case "match_none" -> {
        return new MatchNoDocsQuery();
      }
      default -> throw new IllegalArgumentException("query type not mapped: " + kind);
    }
  }

  private static MultiTermQuery.RewriteMethod rewrite(String name) {
    if (name.startsWith("top_terms_") && !name.startsWith("top_terms_boost_")
        && !name.startsWith("top_terms_blended_freqs_")) {
      return new MultiTermQuery.TopTermsScoringBooleanQueryRewrite(
          Integer.parseInt(name.substring("top_terms_".length())));
    }
    if ("constant_score".equals(name)) {
      return MultiTermQuery.CONSTANT_SCORE_REWRITE;
    }
    throw new IllegalArgumentException("rewrite not mapped: " + name);
  }

  private static SpanQuery spanNear(JsonNode body) {
    List<SpanQuery> clauses = new ArrayList<>();
    for (JsonNode c : body.path("clauses")) {
      if (c.has("span_term")) {
        Map.Entry<String, JsonNode> e = single(c.get("span_term"));
        JsonNode v = e.getValue();
        String value = v.isObject() ? v.path("value").asText() : v.asText();
        clauses.add(new SpanTermQuery(new Term(e.getKey(), value)));
      } else if (c.has("span_near")) {
        clauses.add(spanNear(c.get("span_near")));
      } else {
        throw new IllegalArgumentException("span clause not mapped: " + c);
      }
    }
    return new SpanNearQuery(
        clauses.toArray(new SpanQuery[0]),
        body.path("slop").asInt(0),
        body.path("in_order").asBoolean(true));
  }

  private static Map.Entry<String, JsonNode> single(JsonNode body) {
    Iterator<Map.Entry<String, JsonNode>> it = body.fields();
    Map.Entry<String, JsonNode> e = it.next();
    if (it.hasNext()) {
      throw new IllegalArgumentException("one field per query: " + body);
    }
    return e;
  }

  private static void clauses(BooleanQuery.Builder b, JsonNode list, BooleanClause.Occur occur) {
    if (list == null) {
      return;
    }
    if (list.isArray()) {
      for (JsonNode c : list) {
        b.add(query(c), occur);
      }
    } else {
      b.add(query(list), occur);
    }
  }

  private static Query boost(Query q, JsonNode body) {
    if (body != null && body.isObject() && body.has("boost")) {
      float boost = (float) body.get("boost").asDouble();
      if (boost != 1.0f) {
        return new BoostQuery(q, boost);
      }
    }
    return q;
  }

  static void search(JsonNode body, Path dir, Path queries, Path out, long[] lengths)
      throws IOException {
    try (FSDirectory d = FSDirectory.open(dir);
        DirectoryReader reader = DirectoryReader.open(d);
        BufferedReader r = Files.newBufferedReader(queries, StandardCharsets.UTF_8);
        BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      IndexSearcher searcher = new IndexSearcher(reader);
      searcher.setSimilarity(similarity(body, lengths));
      String line;
      while ((line = r.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode job = JSON.readTree(line);
        String qid = job.path("qid").asText();
        int size = job.path("size").asInt(100);
        if (job.path("query").isNull() || job.path("query").isMissingNode()) {
          continue;  // nothing searchable: no hit
        }
        Query q = query(job.path("query"));
        // collapse on doc_id: walk the passages by score until `size` documents are seen
        Set<String> seen = new HashSet<>();
        ScoreDoc after = null;
        int page = Math.max(1000, size * 10);
        outer:
        while (true) {
          TopDocs top = after == null ? searcher.search(q, page) : searcher.searchAfter(after, q, page);
          if (top.scoreDocs.length == 0) {
            break;
          }
          for (ScoreDoc sd : top.scoreDocs) {
            String docId = searcher.storedFields().document(sd.doc).get("doc_id");
            if (seen.add(docId)) {
              w.write(qid + "\t" + docId + "\t" + sd.score);
              w.newLine();
              if (seen.size() >= size) {
                break outer;
              }
            }
            after = sd;
          }
          if (top.scoreDocs.length < page) {
            break;
          }
        }
      }
    }
  }
}
