"""Word lists the generator draws names from (invented or public-domain)."""

from __future__ import annotations

FIRST_NAMES = """
Aaron Abigail Adam Adrian Alexa Alice Amber Amelia Andrew Angela Anna Anthony Ariel Arthur Audrey Austin
Barbara Beatrice Benjamin Bernard Beth Blake Bradley Brenda Brian Brooke Bruce Caleb Cameron Carl Carmen
Caroline Cecilia Charles Chloe Christian Claire Clark Colin Connor Courtney Daniel Daphne David Deborah
Dennis Diana Dominic Donald Dorothy Dylan Edward Eleanor Elijah Elizabeth Ellen Emily Emma Eric Ethan
Evelyn Felix Fiona Frances Frank Gabriel Gavin George Georgia Gerald Gloria Grace Gregory Hannah Harold
Harriet Heather Helen Henry Holly Hugo Ian Imogen Irene Isaac Isabel Jack Jacob Jade James Jane Janet
Jasmine Jason Jeffrey Jennifer Jeremy Jessica Joan John Jonah Joseph Joshua Judith Julia Justin Karen
Katherine Keith Kelly Kenneth Kevin Kylie Laura Lauren Lawrence Leah Leonard Lillian Linda Logan Louis
Lucas Lucy Luke Lydia Madeline Malcolm Margaret Maria Marcus Martha Martin Matthew Maya Megan Melanie
Michael Miles Miranda Molly Morgan Nathan Neil Nicholas Nina Noah Nora Oliver Olivia Oscar Owen Pamela
Patricia Patrick Paul Penelope Peter Philip Phoebe Quentin Quinn Rachel Ralph Raymond Rebecca Richard
Robert Rose Ruby Russell Ruth Ryan Samantha Samuel Sandra Sarah Scott Sean Sebastian Sharon Simon Sophia
Stanley Stella Stephen Steven Susan Sylvia Tabitha Teresa Theodore Thomas Timothy Todd Tyler Ursula
Valerie Victor Victoria Vincent Violet Walter Wanda Wesley William Wyatt Xavier Yolanda Yvonne Zachary Zoe
""".split()

LAST_NAMES = """
Abbott Acosta Adams Alvarez Anderson Armstrong Atkinson Bailey Baker Banks Barnes Barrett Bell Bennett
Berry Bishop Black Blair Boyd Bradley Brooks Brown Bryant Burke Burns Butler Byrne Caldwell Campbell Carr
Carroll Carter Castillo Chambers Chapman Chavez Clark Cole Coleman Collins Cook Cooper Cox Crawford Cruz
Cunningham Daniels Davidson Davis Dawson Day Dean Diaz Dixon Douglas Duncan Dunn Edwards Elliott Ellis
Evans Ferguson Fisher Fleming Fletcher Flores Ford Foster Fox Freeman Fuller Garcia Gardner Gibson Gilbert
Gomez Gordon Graham Grant Gray Green Gregory Griffin Hall Hamilton Hansen Harper Harris Hart Harvey Hayes
Henderson Henry Hicks Hill Hoffman Holland Holmes Howard Hudson Hughes Hunt Hunter Jackson James Jenkins
Jensen Johnson Jones Jordan Kelley Kennedy Kim King Knight Lambert Lane Larson Lawrence Lee Lewis Little
Logan Long Lopez Lucas Lynch Marshall Martin Martinez Mason Matthews Meyer Miller Mills Mitchell Moore
Morales Morgan Morris Murphy Murray Myers Nelson Newman Nguyen Nichols Oliver Olson Ortiz Owens Palmer
Parker Patel Patterson Payne Pearson Perez Perry Peters Phillips Pierce Porter Powell Price Quinn Ramirez
Ramos Reed Reyes Reynolds Rice Richards Riley Rivera Roberts Robinson Rodriguez Rogers Rose Ross Russell
Ryan Sanders Santos Schmidt Scott Shaw Silva Simmons Simpson Smith Snyder Spencer Stanley Stevens Stewart
Stone Sullivan Taylor Thomas Thompson Torres Tucker Turner Vargas Wagner Walker Wallace Walsh Ward Warren
Watson Weaver Webb Wells West Wheeler White Williams Wilson Wood Woods Wright Young
""".split()

# (city, state or province): the venues' and the users' home towns.
CITIES = [
    ("New York City", "NY"), ("Los Angeles", "CA"), ("Chicago", "IL"), ("Houston", "TX"), ("Phoenix", "AZ"),
    ("Philadelphia", "PA"), ("San Antonio", "TX"), ("San Diego", "CA"), ("Dallas", "TX"), ("San Jose", "CA"),
    ("Austin", "TX"), ("Jacksonville", "FL"), ("Columbus", "OH"), ("Charlotte", "NC"), ("San Francisco", "CA"),
    ("Indianapolis", "IN"), ("Seattle", "WA"), ("Denver", "CO"), ("Washington", "DC"), ("Boston", "MA"),
    ("Nashville", "TN"), ("Detroit", "MI"), ("Portland", "OR"), ("Las Vegas", "NV"), ("Memphis", "TN"),
    ("Louisville", "KY"), ("Baltimore", "MD"), ("Milwaukee", "WI"), ("Albuquerque", "NM"), ("Tucson", "AZ"),
    ("Fresno", "CA"), ("Sacramento", "CA"), ("Kansas City", "MO"), ("Atlanta", "GA"), ("Omaha", "NE"),
    ("Raleigh", "NC"), ("Miami", "FL"), ("Minneapolis", "MN"), ("Tulsa", "OK"), ("Cleveland", "OH"),
    ("New Orleans", "LA"), ("Tampa", "FL"), ("Pittsburgh", "PA"), ("Cincinnati", "OH"), ("St. Louis", "MO"),
    ("Orlando", "FL"), ("Salt Lake City", "UT"), ("Buffalo", "NY"), ("Richmond", "VA"), ("Hartford", "CT"),
    ("Providence", "RI"), ("Birmingham", "AL"), ("Boise", "ID"), ("Spokane", "WA"), ("Des Moines", "IA"),
    ("Anchorage", "AK"), ("Honolulu", "HI"), ("Madison", "WI"), ("Charleston", "SC"), ("Savannah", "GA"),
    ("Toronto", "ON"), ("Montreal", "QC"), ("Vancouver", "BC"), ("Calgary", "AB"), ("Ottawa", "ON"),
    ("Edmonton", "AB"), ("Winnipeg", "MB"), ("Quebec City", "QC"), ("Halifax", "NS"), ("Victoria", "BC"),
]

EMAIL_DOMAINS = """
example.com example.org example.net mail.example.com inbox.example.org post.example.net
""".split()

VENUE_SPONSORS = """
Granite Harbor Liberty Summit Meridian Pioneer Beacon Cascade Heritage Keystone Lakeside Riverside Union
Northgate Crescent Evergreen Horizon Sterling Capitol Citizens Frontier Golden Majestic Orpheum Palace
Paramount Regent Royal Victory Empire Globe Lyric Apollo Aurora Colonial Metro Civic Grand Central
""".split()

VENUE_KINDS = """
Stadium Arena Theatre Center Hall Amphitheatre Field Park Coliseum Pavilion Playhouse Auditorium Ballroom
""".split() + ["Opera House", "Concert Hall", "Music Hall", "Events Center"]

# Event names by category id (6 Musicals, 7 Plays, 8 Opera, 9 Pop), as in the
# real sample, where every event is a show, an opera or a concert.
MUSICALS = [
    "The Pirates of Penzance", "H.M.S. Pinafore", "The Mikado", "Show Boat", "Babes in Toyland",
    "The Merry Widow", "Naughty Marietta", "The Student Prince", "Rose-Marie", "The Desert Song",
    "Anything Goes", "Girl Crazy", "Of Thee I Sing", "The Vagabond King", "No, No, Nanette",
    "Lady, Be Good", "Sweethearts", "The Red Mill", "Robin Hood", "Iolanthe", "The Gondoliers",
    "Patience", "Ruddigore", "The Yeomen of the Guard", "Princess Ida", "Trial by Jury",
    "Moonlight Avenue", "The Lantern Keeper", "Harbor Lights", "Starlit Boulevard", "Paper Crowns",
    "The Clockmaker's Daughter", "Copper Sky", "Velvet Street", "Sunday in Brooklyn", "The Jubilee",
]
PLAYS = [
    "Hamlet", "Macbeth", "King Lear", "Othello", "Twelfth Night", "The Tempest", "As You Like It",
    "Much Ado About Nothing", "A Midsummer Night's Dream", "Romeo and Juliet", "The Winter's Tale",
    "The Importance of Being Earnest", "Lady Windermere's Fan", "An Ideal Husband", "Pygmalion",
    "Arms and the Man", "Major Barbara", "The Cherry Orchard", "The Seagull", "Uncle Vanya",
    "Three Sisters", "A Doll's House", "Hedda Gabler", "An Enemy of the People", "The Wild Duck",
    "Tartuffe", "The Misanthrope", "The Miser", "She Stoops to Conquer", "The Rivals",
    "The School for Scandal", "Cyrano de Bergerac", "Peer Gynt", "Ghosts", "Volpone", "Everyman",
]
OPERAS = [
    "La Boheme", "Tosca", "Madama Butterfly", "Turandot", "Aida", "La Traviata", "Rigoletto",
    "Il Trovatore", "Otello", "Falstaff", "Nabucco", "Carmen", "Faust", "Don Giovanni",
    "The Marriage of Figaro", "The Magic Flute", "Cosi fan tutte", "The Barber of Seville",
    "L'Elisir d'Amore", "Lucia di Lammermoor", "Norma", "Gotterdammerung", "Das Rheingold",
    "Die Walkure", "Siegfried", "Tristan und Isolde", "Lohengrin", "Tannhauser", "Fidelio",
    "Der Rosenkavalier", "Salome", "Eugene Onegin", "Boris Godunov", "Pagliacci",
    "Cavalleria Rusticana", "Manon", "Werther", "Orfeo ed Euridice", "Dido and Aeneas",
]
BAND_ADJECTIVES = """
Silver Electric Velvet Midnight Golden Neon Crimson Hollow Wild Lonely Paper Broken Northern Radio
Glass Lucky Rolling Burning Quiet Distant Cosmic Static Honey Iron Blue Scarlet Restless Drifting
""".split()
BAND_NOUNS = """
Lanterns Foxes Rivers Pilots Ghosts Engines Sparrows Satellites Tigers Kings Echoes Wolves Comets
Harbors Horses Strangers Saints Machines Arrows Mountains Daughters Giants Shadows Oceans Parade
""".split()
