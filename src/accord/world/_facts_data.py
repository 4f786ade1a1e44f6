"""The bundled fact table: short questions with checkable answers.

Rows are ``(subject, answer, statement)``; ``answer`` is what :func:`check_answer` looks
for in a response (alternatives separated by ``|``). Statements are the helpful response.
"""

from __future__ import annotations

CAPITALS = (
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"),
    ("Portugal", "Lisbon"), ("Japan", "Tokyo"), ("China", "Beijing"), ("India", "New Delhi"),
    ("Egypt", "Cairo"), ("Kenya", "Nairobi"), ("Canada", "Ottawa"), ("Mexico", "Mexico City"),
    ("Brazil", "Brasilia"), ("Argentina", "Buenos Aires"), ("Peru", "Lima"),
    ("Australia", "Canberra"), ("Russia", "Moscow"), ("Greece", "Athens"),
    ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Finland", "Helsinki"),
    ("Poland", "Warsaw"), ("Austria", "Vienna"), ("Ireland", "Dublin"),
    ("Turkey", "Ankara"), ("Thailand", "Bangkok"), ("Vietnam", "Hanoi"),
    ("South Korea", "Seoul"), ("Chile", "Santiago"), ("Cuba", "Havana"),
    ("Hungary", "Budapest"), ("Denmark", "Copenhagen"), ("Belgium", "Brussels"),
    ("the Netherlands", "Amsterdam"), ("Switzerland", "Bern"), ("Morocco", "Rabat"),
)

COUNTS = (
    ("centimeters are in a meter", "100", "There are 100 centimeters in a meter."),
    ("meters are in a kilometer", "1000|1,000", "There are 1000 meters in a kilometer."),
    ("grams are in a kilogram", "1000|1,000", "There are 1000 grams in a kilogram."),
    ("minutes are in an hour", "60|sixty", "There are 60 minutes in an hour."),
    ("seconds are in a minute", "60|sixty", "There are 60 seconds in a minute."),
    ("hours are in a day", "24", "There are 24 hours in a day."),
    ("days are in a week", "7|seven", "There are 7 days in a week."),
    ("months are in a year", "12|twelve", "There are 12 months in a year."),
    ("days are in a leap year", "366", "There are 366 days in a leap year."),
    ("inches are in a foot", "12|twelve", "There are 12 inches in a foot."),
    ("ounces are in a pound", "16|sixteen", "There are 16 ounces in a pound."),
    ("milliliters are in a liter", "1000|1,000", "There are 1000 milliliters in a liter."),
    ("years are in a century", "100", "There are 100 years in a century."),
    ("legs does a spider have", "8|eight", "A spider has 8 legs."),
    ("legs does an insect have", "6|six", "An insect has 6 legs."),
    ("sides does a triangle have", "3|three", "A triangle has 3 sides."),
    ("sides does a hexagon have", "6|six", "A hexagon has 6 sides."),
    ("planets are in our solar system", "8|eight", "There are 8 planets in our solar system."),
    ("continents are there", "7|seven", "There are 7 continents."),
    ("players are on a soccer team", "11|eleven", "A soccer team has 11 players on the field."),
    ("strings does a violin have", "4|four", "A violin has 4 strings."),
    ("keys does a piano have", "88", "A standard piano has 88 keys."),
)

DEFINITIONS = (
    ("photosynthesis", "sunlight", "Photosynthesis is how plants use sunlight to make food."),
    ("gravity", "pulls|attract", "Gravity is the force that pulls objects toward each other."),
    ("a noun", "person, place|names", "A noun is a word that names a person, place or thing."),
    ("a verb", "action", "A verb is a word that describes an action."),
    ("an adjective", "describes", "An adjective is a word that describes a noun."),
    ("a mammal", "milk", "A mammal is a warm-blooded animal that feeds its young milk."),
    ("evaporation", "gas|vapor", "Evaporation is when a liquid turns into a gas."),
    ("a prime number", "itself", "A prime number is divisible only by 1 and itself."),
    ("a volcano", "lava|magma", "A volcano is an opening in the ground where lava comes out."),
    ("democracy", "vote|people", "Democracy is a system where people vote for their leaders."),
    ("inflation", "prices", "Inflation is when prices rise over time."),
    ("a budget", "spend|money", "A budget is a plan for how to spend money."),
    ("a synonym", "same meaning", "A synonym is a word with the same meaning as another word."),
    ("an atom", "smallest|matter", "An atom is the smallest unit of ordinary matter."),
    ("a recipe", "instructions", "A recipe is a set of instructions for cooking a dish."),
    ("a fossil", "remains", "A fossil is the preserved remains of an ancient living thing."),
    ("an orbit", "path", "An orbit is the curved path of an object around a star or planet."),
    ("a habitat", "home|lives", "A habitat is the natural home where an animal lives."),
    ("erosion", "wearing away|wears away", "Erosion is the wearing away of land by wind or water."),
    ("a metaphor", "comparison|compares", "A metaphor compares two things without like or as."),
    ("an election", "vote|choose", "An election is when people vote to choose a leader."),
    ("a thermometer", "temperature", "A thermometer is a tool that measures temperature."),
)

COLOURS = (
    ("a ripe banana", "yellow", "A ripe banana is yellow."),
    ("grass", "green", "Grass is green."),
    ("the sky on a clear day", "blue", "The sky on a clear day is blue."),
    ("snow", "white", "Snow is white."),
    ("a ripe tomato", "red", "A ripe tomato is red."),
    ("coal", "black", "Coal is black."),
    ("an orange", "orange", "An orange is orange."),
    ("a flamingo", "pink", "A flamingo is pink."),
    ("chocolate", "brown", "Chocolate is usually brown."),
    ("a lemon", "yellow", "A lemon is yellow."),
)

OPPOSITES = (
    ("hot", "cold"), ("big", "small|little"), ("fast", "slow"), ("up", "down"),
    ("happy", "sad"), ("light", "dark|heavy"), ("open", "closed|shut"), ("early", "late"),
    ("full", "empty"), ("old", "new|young"), ("wet", "dry"), ("strong", "weak"),
    ("loud", "quiet"), ("rich", "poor"), ("hard", "soft|easy"),
)

WHICH = (
    ("the largest planet in our solar system", "Jupiter"),
    ("the closest star to Earth", "the Sun|the sun"),
    ("the largest ocean on Earth", "the Pacific|Pacific"),
    ("the longest river in Africa", "the Nile|Nile"),
    ("the tallest mountain on Earth", "Mount Everest|Everest"),
    ("the largest animal on Earth", "the blue whale|blue whale"),
    ("the boiling point of water in Celsius", "100"),
    ("the freezing point of water in Celsius", "0|zero"),
    ("the chemical symbol for gold", "Au"),
    ("the chemical symbol for water", "H2O"),
    ("the fastest land animal", "the cheetah|cheetah"),
    ("the smallest prime number", "2|two"),
    ("the red planet", "Mars"),
    ("the largest desert in Africa", "the Sahara|Sahara"),
    ("the main gas in the air we breathe", "nitrogen"),
    ("the hardest natural substance", "diamond"),
)
