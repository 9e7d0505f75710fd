"""Hand-written pages for the relevance tests: one target page and one source
page per topic, every source page in the same boilerplate (menu, sidebar,
footer, cookie banner), so that a score can only come from the main text.

The boilerplate names every topic on purpose: a scorer that read it would find
each page close to every target.
"""

from __future__ import annotations

TOPICS = ("bread", "hiking", "investing", "aquarium")

ARTICLES = {
    "bread": (
        "How to bake sourdough bread at home",
        """Baking sourdough bread starts with a lively starter: flour and water fed
        every day until it doubles and smells pleasantly sour. Mix the starter with
        bread flour, water and salt, and let the dough rest. Stretch and fold the
        dough every half hour while it ferments; the gluten grows strong and the
        dough turns smooth and airy. Shape a tight loaf, proof it overnight in the
        fridge in a floured basket, and bake it in a hot Dutch oven. Steam keeps the
        crust soft at first so the loaf can rise, then the crust browns and
        crackles. Let the bread cool before slicing: the crumb is still baking
        inside. A good sourdough loaf has an open crumb, a crisp crust and a mild
        tang from the fermentation of the starter.""",
    ),
    "hiking": (
        "Packing list for a first overnight hike",
        """A first overnight hike needs less gear than most hikers pack. Choose a
        backpack of about forty litres, a light tent or a tarp, a sleeping bag rated
        for the coldest night on the trail, and a sleeping pad. Boots or trail shoes
        should be broken in before the hike; blisters end more trips than weather.
        Carry a map and a compass even when the trail is marked, a headlamp, a
        first aid kit, and layers: a warm fleece, a rain jacket and a hat. Water is
        the heaviest load, so plan the route past streams and carry a filter. A
        small stove boils water for dinner at camp. Leave the trail and the campsite
        as you found them, and tell someone your route before the hike.""",
    ),
    "investing": (
        "Index funds for a retirement portfolio",
        """Index funds are the simplest way to invest for retirement. A fund that
        tracks a broad stock market index holds hundreds of companies, so one
        share spreads the risk of the portfolio. Fees matter: an expense ratio of a
        tenth of a percent leaves far more of the return in the investor's account
        over thirty years than an actively managed fund charging one percent.
        Split the portfolio between stocks and bonds by the years left before
        retirement, rebalance once a year, and keep investing every month whatever
        the market does. Dividends are reinvested, and compound interest does the
        rest. Selling in a downturn locks in losses; the investors who stay in the
        market through a crash recover with it.""",
    ),
    "aquarium": (
        "Cycling a new freshwater aquarium",
        """Before the first fish swims in a new freshwater aquarium, the tank must
        be cycled. Bacteria in the filter turn the ammonia from fish waste into
        nitrite and then into nitrate, which plants and water changes remove. Fill
        the tank with dechlorinated water, run the filter and the heater, and add a
        pinch of fish food or pure ammonia every day. Test the water with a kit:
        ammonia rises, then nitrite, then both fall to zero while nitrate appears.
        That takes four to six weeks. Add a few hardy fish first, feed them lightly,
        and change a quarter of the water every week. Live plants, a gentle
        filter and a stable temperature keep the aquarium healthy.""",
    ),
}

# A second text per topic, for the target page: the same subject in other words,
# as our own page on it would be.
TARGETS = {
    "bread": (
        "Sourdough starter guide",
        """Our guide to keeping a sourdough starter alive: feed the starter flour
        and water, watch it rise and fall, and bake bread when it is bubbly.
        Recipes for a country loaf, whole wheat bread and sourdough pizza dough,
        with tips on proofing, shaping the dough and baking a loaf with a crisp
        crust.""",
    ),
    "hiking": (
        "Hiking gear checklist",
        """The hiking gear checklist: backpack, tent, sleeping bag and pad, trail
        shoes, rain jacket, map, compass, headlamp, water filter and stove. What to
        pack for a day hike and for a night on the trail, and how to keep the
        backpack light.""",
    ),
    "investing": (
        "Retirement investing calculator",
        """Plan your retirement investing: see how index funds, stocks and bonds
        grow your portfolio with compound returns, what fund fees cost over the
        years, and how much to invest every month to retire on time.""",
    ),
    "aquarium": (
        "Freshwater aquarium care",
        """Freshwater aquarium care for beginners: cycling the tank, testing the
        water for ammonia, nitrite and nitrate, choosing a filter and a heater,
        feeding fish and keeping aquarium plants healthy with weekly water
        changes.""",
    ),
}

KEYWORDS = {
    "bread": ["sourdough bread", "starter"],
    "hiking": ["hiking gear", "backpack"],
    "investing": ["index funds", "retirement"],
    "aquarium": ["freshwater aquarium", "aquarium filter"],
}

_COOKIE_BANNER = """
<div id="cookie-notice" class="cookie-consent-banner">
  <p>We use cookies to improve your experience of recipes, hiking trips, investing
  and aquarium guides. Accept cookies to continue reading about bread, backpacks,
  index funds and freshwater fish.</p>
  <button>Accept</button>
</div>"""

_HEADER = """
<header class="site-header">
  <div class="site-title">The Everyday Hobbyist: baking, hiking, money and fish</div>
  <nav class="main-navigation"><ul>
    <li><a href="/bread">Sourdough bread recipes</a></li>
    <li><a href="/hiking">Hiking gear reviews</a></li>
    <li><a href="/investing">Investing and index funds</a></li>
    <li><a href="/aquarium">Freshwater aquarium tips</a></li>
  </ul></nav>
</header>"""

_SIDEBAR = """
<aside id="secondary" class="widget-area">
  <section class="widget widget_recent_entries"><h2>Popular</h2><ul>
    <li><a href="/p/1">Best sourdough starter flour</a></li>
    <li><a href="/p/2">Ultralight backpack and tent for a hiking trip</a></li>
    <li><a href="/p/3">Index funds versus stocks for retirement</a></li>
    <li><a href="/p/4">Aquarium filter and ammonia test kit</a></li>
  </ul></section>
</aside>"""

_FOOTER = """
<footer id="colophon" class="site-footer">
  <p>About us: we write about baking bread, hiking trails, retirement investing
  and aquarium fish. Newsletter, contact, privacy.</p>
</footer>"""


def source_page(topic: str, *, link: str = "") -> str:
    """A blog post on ``topic`` in the shared boilerplate, linking to ``link`` if given."""
    title, body = ARTICLES[topic]
    paragraphs = "".join(f"<p>{part.strip()}.</p>" for part in body.split(". ") if part.strip())
    anchor = f'<p>More in <a href="{link}">our friends\' guide</a>.</p>' if link else ""
    return f"""<!doctype html><html><head><title>{title} | The Everyday Hobbyist</title>
<meta charset="utf-8"></head><body>{_COOKIE_BANNER}{_HEADER}
<div id="content" class="site-content"><main id="main" class="site-main">
<article class="post"><header class="entry-header"><h1 class="entry-title">{title}</h1>
</header><div class="entry-content">{paragraphs}{anchor}</div></article></main>
{_SIDEBAR}</div>{_FOOTER}</body></html>"""


def target_page(topic: str) -> str:
    """Our own page on ``topic``, in a boilerplate of its own."""
    title, body = TARGETS[topic]
    return f"""<!doctype html><html><head><title>{title}</title></head><body>
<nav><a href="/">Shop</a> <a href="/blog">Blog</a> <a href="/about">About</a></nav>
<main><h1>{title}</h1><p>{body}</p></main>
<footer>Copyright Ours Ltd. Terms. Privacy.</footer></body></html>"""
